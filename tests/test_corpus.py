"""The real-data tier: third-party pages and feeds in ../shared/corpus (OBSIDIAN_INBOX_CORPUS).

Skipped when the corpus is absent. Nothing is copied from it into the project.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bench._util import CORPUS, extraction_scores
from obsidian_inbox import Fetcher, Note, WebEnricher
from obsidian_inbox._extract import extract_article, find_item, parse_feed, plain_text
from obsidian_inbox._inbox import parse_capture
from obsidian_inbox._tags import is_valid_tag

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(
        not (CORPUS / "pages" / "expected.json").exists(),
        reason=f"no corpus at {CORPUS} (set OBSIDIAN_INBOX_CORPUS to use one elsewhere)",
    ),
]

FEEDS = CORPUS / "feeds"
PAGES = CORPUS / "pages"
#: The corpus README's baseline is 0.949 (bare trafilatura 2.3.1); the floor sits a little under.
F1_FLOOR = 0.90
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,8});")


def feeds() -> dict[str, dict[str, Any]]:
    if not (FEEDS / "feeds.json").exists():
        return {}
    data: dict[str, dict[str, Any]] = json.loads((FEEDS / "feeds.json").read_text(encoding="utf-8"))
    return data


# --- pages ---------------------------------------------------------------------------


def test_pages_are_extracted_at_least_as_well_as_the_baseline() -> None:
    expected: dict[str, dict[str, str]] = json.loads(
        (PAGES / "expected.json").read_text(encoding="utf-8")
    )
    pairs = []
    per_page = []
    for name, page in sorted(expected.items()):
        article = extract_article((PAGES / name).read_text(encoding="utf-8"), url=page["url"])
        predicted = plain_text(article.text)
        pairs.append((predicted, page["text"]))
        per_page.append((extraction_scores([(predicted, page["text"])])["f1"], name))
    scores = extraction_scores(pairs)
    worst = ", ".join(f"{name[:10]}… {f1:.2f}" for f1, name in sorted(per_page)[:5])
    assert scores["pages"] == len(expected)
    assert scores["f1"] >= F1_FLOOR, (
        f"F1 {scores['f1']:.3f} (P {scores['precision']:.3f}, R {scores['recall']:.3f}); worst: {worst}"
    )
    assert scores["precision"] >= 0.88
    assert scores["recall"] >= 0.95


# --- feeds ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(feeds()))
def test_feeds_parse_as_feedparser_reads_them(name: str) -> None:
    facts = feeds()[name]
    feed = parse_feed((FEEDS / name).read_bytes(), url=f"https://feeds.example/{name}")
    assert len(feed.items) == facts["items"]
    assert feed.format == facts["format"]
    assert feed.encoding == facts["encoding"]
    assert bool(feed.problem) == bool(facts["bozo"])
    for item in feed.items:
        assert not _ENTITY.search(item.title), item.title
        assert "<" not in item.title or "<" in (facts.get("feed_title") or ""), item.title


def _capture(feed_title: str, feed_url: str, link: str, title: str, description: str) -> str:
    return f"RSS Feed: {feed_title}\nSource: {feed_url}\nLink: {link}\n\n{title or 'Untitled'}\n\n{description}\n"


@pytest.mark.parametrize("name", sorted(feeds()))
def test_every_item_is_found_from_a_capture_naming_it(name: str) -> None:
    feed = parse_feed((FEEDS / name).read_bytes(), url=f"https://feeds.example/{name}")
    for number, item in enumerate(feed.items):
        if not item.link:
            continue
        text = _capture(
            feed.title, f"https://feeds.example/{name}", item.link, item.title, item.summary
        )
        note = parse_capture(text, file_name=f"20250901_0800{number % 60:02d}_rss_item.txt")
        article_urls = [s.url for s in note.sources if s.kind == "article"]
        link = article_urls[0] if article_urls else note.url
        assert find_item(feed, link=link, title=note.title) is not None, (item.title, item.link)
        found = find_item(feed, link=link, title=note.title)
        assert found is not None
        assert found.link == item.link or found.title == item.title


@pytest.fixture(scope="module")
def feed_enricher() -> Iterator[WebEnricher]:
    """An enricher whose feeds come from the corpus and whose pages are all gone (404)."""

    def serve(request: httpx.Request) -> httpx.Response:
        name = request.url.path.lstrip("/")
        if request.url.host == "feeds.example" and name in feeds():
            return httpx.Response(200, content=(FEEDS / name).read_bytes())
        return httpx.Response(404)  # relative links in the feeds point here too

    fetcher = Fetcher(transport=httpx.MockTransport(serve), cache=False, retry_wait=0)
    with fetcher, WebEnricher(fetcher=fetcher) as enricher:
        yield enricher


@pytest.mark.parametrize("name", sorted(feeds()))
def test_notes_from_feed_items_are_clean(name: str, feed_enricher: WebEnricher) -> None:
    feed = parse_feed((FEEDS / name).read_bytes(), url=f"https://feeds.example/{name}")
    for number, item in enumerate(feed.items[:12]):  # the first dozen of each feed
        link = item.link or "https://pages.example/none"
        text = _capture(feed.title, f"https://feeds.example/{name}", link, item.title, item.summary)
        note = parse_capture(text, file_name=f"20250901_0800{number % 60:02d}_rss_item.txt")
        result = feed_enricher(note)
        assert result.transient == ()
        markdown = result.note.to_markdown()
        front = yaml.safe_load(markdown.split("---\n", 2)[1])
        assert isinstance(front, dict)
        assert all(is_valid_tag(str(tag)) for tag in front["tags"] or ())
        assert not _ENTITY.search(markdown), (item.title, _ENTITY.search(markdown))
        assert Note.from_markdown(markdown) == result.note
        (feed_source,) = [s for s in result.note.sources if s.kind == "feed"]
        assert feed_source.error == "", (item.title, feed_source.error)
        if item.published is not None:
            assert feed_source.published is not None


def test_the_corpus_is_where_it_says() -> None:
    assert Path(CORPUS, "README.md").exists()
