"""The default enricher: fetch a capture's feed item and pages, then classify and summarise (glue).

For each note, :class:`WebEnricher`:

1. fetches the feed the capture came from (once per run for all its captures) and finds
   the item the capture is about, by its link compared canonically, else by its title;
2. fetches each page the capture names and extracts its main text and metadata; a PDF or
   other file is recorded as an attachment;
3. falls back, when a page is gone, thin or a bot check, to the feed item's content, and
   otherwise to the capture itself;
4. fills in the note's sources, its title (when the capture had none, or a generic one),
   tags, category, summary and ``fetched_at``.

Outcomes: a permanent failure (404/410, a refused scheme, not a web page, no main text)
leaves the note ``status: partial`` with the reason; a transient one (timeout, connection
error, 429, 5xx) is returned in :attr:`~obsidian_inbox.Enrichment.transient`, so the
pipeline keeps the capture for another run. Nothing here raises for a network or
extraction failure.
"""

from __future__ import annotations

import collections
import logging
import threading
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from ._classify import (
    DEFAULT_CATEGORY_RULES,
    CategoryRule,
    TagRule,
    categorize,
    merge_tags,
    rule_tags,
)
from ._errors import FeedError, FetchError
from ._extract import (
    Article,
    Feed,
    FeedItem,
    extract_article,
    find_item,
    is_generic_title,
    lead_text,
    parse_feed,
    plain_text,
)
from ._fetch import AddressRefusedError, Fetcher, FetchResult, KeyedLocks, NotCachedError
from ._inbox import _title_from_url
from ._markdown import one_line
from ._note import Note, Source, evolve
from ._pipeline import Enrichment
from ._summary import DefaultSummarizer, LLMSummarizer, Summarizer
from ._urls import canonical_url, is_web_url

if TYPE_CHECKING:
    from ._config import Settings

__all__ = ["WebEnricher"]

logger = logging.getLogger(__name__)


@attrs.define
class _Work:
    """What went wrong while enriching one note."""

    problems: list[str] = attrs.field(factory=list)
    transient: list[str] = attrs.field(factory=list)

    def failed(self, error: FetchError) -> None:
        (self.transient if error.transient else self.problems).append(str(error))


_FeedEntry = tuple[Feed, FetchResult] | FetchError


class _Feeds:
    """Feeds fetched and parsed once per run, however many captures name them."""

    def __init__(self, fetcher: Fetcher, size: int = 32) -> None:
        self._fetcher = fetcher
        self._size = size
        self._locks = KeyedLocks()
        self._lock = threading.Lock()
        self._memo: collections.OrderedDict[str, _FeedEntry] = collections.OrderedDict()

    def get(self, url: str, *, refresh: bool = False) -> tuple[Feed, FetchResult]:
        """Return the parsed feed at ``url`` and its response.

        Raises:
            FetchError: It could not be fetched, or it is not a feed (:class:`FeedError`).
        """
        key = canonical_url(url)
        with self._locks.hold(key):
            with self._lock:
                entry = None if refresh else self._memo.get(key)
            if entry is None:
                entry = self._load(url, refresh=refresh)
                with self._lock:
                    self._memo[key] = entry
                    while len(self._memo) > self._size:
                        self._memo.popitem(last=False)
        if isinstance(entry, FetchError):
            raise entry
        return entry

    def _load(self, url: str, *, refresh: bool) -> _FeedEntry:
        try:
            result = self._fetcher.fetch(url, refresh=refresh)
        except NotCachedError:
            raise
        except FetchError as exc:
            return exc
        if result.kind == "attachment":
            return FeedError(url, f"not a feed ({result.content_type})")
        try:
            return parse_feed(result.content, url=result.final_url, headers=result.headers), result
        except FeedError as exc:
            return exc


def _title_was_guessed(note: Note) -> bool:
    """Tell whether the capture had no title of its own (the parser made one up).

    A title the capture states is one of its lines; a made-up one comes from the URL,
    the file name or a shortened first sentence.
    """
    if note.title.startswith("Untitled ") or is_generic_title(note.title):
        return True
    lines = {one_line(line) for line in plain_text(note.content).split("\n")}
    return note.title not in lines


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


class WebEnricher:
    """Enrich notes from the web: feed items, article pages, tags, category and summary.

    It is the default :class:`~obsidian_inbox.Enricher` of
    :func:`~obsidian_inbox.process_inbox`; one instance serves a whole run from many
    threads. Close it (or use it as a context manager) to close the fetcher it made.

    Args:
        fetcher: What fetches (default: a :class:`Fetcher` with the on-disk cache).
        summarizer: What summarises (default: :class:`DefaultSummarizer`).
        category_rules: The rules giving categories (default: ``DEFAULT_CATEGORY_RULES``).
        preferred_rules: Rules tried before ``category_rules``: the first of the two sets
            that gives a category wins (the vault's own rules, from its configuration).
        tag_rules: Rules adding tags when words or sites match (the ``[tags]`` table).
        max_tags: The most tags a note gets from its feed and page (its own are all kept).
        offline: Fetch nothing; use the cache only (ignored when ``fetcher`` is given).
        block_private_addresses: Refuse URLs found in fetched content (a feed item's
            link) that lead to a private, loopback or link-local address; the URLs a
            capture names are fetched wherever they lead.
    """

    def __init__(
        self,
        *,
        fetcher: Fetcher | None = None,
        summarizer: Summarizer | None = None,
        category_rules: Sequence[CategoryRule] = DEFAULT_CATEGORY_RULES,
        preferred_rules: Sequence[CategoryRule] = (),
        tag_rules: Sequence[TagRule] = (),
        max_tags: int = 8,
        offline: bool = False,
        block_private_addresses: bool = True,
    ) -> None:
        self._owns_fetcher = fetcher is None
        self._closing: list[Any] = []
        self.fetcher = fetcher if fetcher is not None else Fetcher(offline=offline)
        self.summarizer: Summarizer = summarizer or DefaultSummarizer()
        self.category_rules = tuple(category_rules)
        self.preferred_rules = tuple(preferred_rules)
        self.tag_rules = tuple(tag_rules)
        self.max_tags = max_tags
        self.block_private_addresses = block_private_addresses
        self._feeds = _Feeds(self.fetcher)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        offline: bool = False,
        cache: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> WebEnricher:
        """Make the enricher a vault's configuration asks for.

        Args:
            settings: The run's settings: ``fetch_timeout``, ``block_private_addresses``,
                ``summary``/``llm_url``/``llm_model``, ``category_rules`` and ``tag_rules``.
            offline: Serve from the HTTP cache only.
            cache: Use the on-disk HTTP cache.
            transport: Send requests through this httpx transport (tests, the demo).
        """
        fetcher = Fetcher(
            timeout=settings.fetch_timeout,
            deadline=max(30.0, settings.fetch_timeout * 1.5),
            offline=offline,
            cache=cache,
            transport=transport,
        )
        summarizer = (
            LLMSummarizer(settings.llm_url, settings.llm_model)
            if settings.summary == "llm"
            else None
        )
        enricher = cls(
            fetcher=fetcher,
            summarizer=summarizer,
            preferred_rules=[
                CategoryRule(category=r["category"], keywords=r["keywords"], sites=r["sites"])
                for r in settings.category_rules
            ],
            tag_rules=[
                TagRule(tag=r["tag"], keywords=r["keywords"], sites=r["sites"])
                for r in settings.tag_rules
            ],
            block_private_addresses=settings.block_private_addresses,
        )
        enricher._owns_fetcher = True
        if summarizer is not None:
            enricher._closing.append(summarizer)
        return enricher

    def __repr__(self) -> str:
        return f"WebEnricher(fetcher={self.fetcher!r}, summarizer={self.summarizer!r})"

    @property
    def offline(self) -> bool:
        """True when it fetches nothing and serves from the cache alone."""
        return self.fetcher.offline

    def close(self) -> None:
        """Close the fetcher (and summarizer) this enricher made."""
        if self._owns_fetcher:
            self.fetcher.close()
        for thing in self._closing:
            thing.close()

    def __enter__(self) -> WebEnricher:  # noqa: PYI034 - Python 3.10 has no typing.Self
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the Enricher protocol ------------------------------------------------------

    def __call__(self, note: Note, *, vocabulary: Iterable[str] = ()) -> Enrichment:
        """Return ``note`` enriched; failures become reasons, never exceptions.

        Args:
            note: A note as the inbox parser made it (its sources not yet fetched).
            vocabulary: The tag spellings the vault uses.
        """
        vocabulary = list(vocabulary)
        work = _Work()
        sources = list(note.sources)
        feed_at = next((i for i, s in enumerate(sources) if s.kind == "feed"), None)
        pages = [i for i, s in enumerate(sources) if s.kind != "feed"]
        status_reason = note.status_reason

        item: FeedItem | None = None
        found: set[int] = set()  # the pages found in fetched content, not named by the capture
        if feed_at is not None:
            link = sources[pages[0]].url if pages else note.url
            sources[feed_at], item = self._feed_item(
                sources[feed_at], link=link, title=note.title, work=work, alone=not pages
            )
        if not pages and item is not None and is_web_url(item.link):
            # The capture named no page (an empty "Link:" line): the feed item does.
            sources.append(Source(url=item.link, kind="article"))
            pages = [len(sources) - 1]
            found.add(pages[0])
            note = evolve(note, url=note.url or canonical_url(item.link))
            status_reason = _join(status_reason, "the page was found through the feed item")

        articles: list[Article] = []
        for index in pages:
            sources[index], article = self._page(sources[index], work, found=index in found)
            if article is not None:
                articles.append(article)

        has_text = any(s.text for s in sources if s.kind == "article")
        if (
            item is not None
            and feed_at is not None
            and not has_text
            and (item.content_html or item.summary_html)
        ):
            sources[feed_at] = evolve(sources[feed_at], text=item.content_markdown())
            if work.problems:
                work.problems[-1] += "; the text is the feed item's"

        title = note.title
        if len(pages) == 1 and _title_was_guessed(note):  # one page: its title is the note's
            better = next((a.title for a in articles if a.title), "") or (
                item.title if item else ""
            )
            title = better or title
        scraped = [*(item.categories if item else ()), *(t for a in articles for t in a.tags)]
        hosts = [urllib.parse.urlsplit(s.url).hostname or "" for s in sources]
        if self.tag_rules:
            words = " ".join(
                (title, plain_text(note.content), *(lead_text(s.text, limit=2000) for s in sources))
            )
            ruled = rule_tags(self.tag_rules, text=words, hosts=hosts)
        else:
            ruled = []
        tags = merge_tags([*note.tags, *ruled], scraped, vocabulary=vocabulary, limit=self.max_tags)
        fetched = [s.fetched_at for s in sources if s.fetched_at is not None]
        enriched = evolve(
            note,
            title=title,
            tags=tags,
            sources=sources,
            fetched_at=max(fetched) if fetched else note.fetched_at,
        )

        description = (item.summary if item else "") or (
            articles[0].description if len(articles) == 1 else ""
        )
        categories = sorted({r.category for r in (*self.preferred_rules, *self.category_rules)})
        summary = self.summarizer(
            enriched, description=description, vocabulary=vocabulary, categories=categories
        )
        if summary.fallback_reason:
            logger.info("%s: %s", note.original_file or note.title, summary.fallback_reason)
        tags = merge_tags([*tags, *summary.tags], (), vocabulary=vocabulary)
        category = note.category or summary.category
        if not category:
            lead = " ".join(lead_text(s.text, limit=1000) for s in sources if s.text)
            words = " ".join((description, plain_text(summary.text), lead))
            for rules in (self.preferred_rules, self.category_rules):
                category = categorize(tags=tags, title=title, text=words, hosts=hosts, rules=rules)
                if category:
                    break
        status_reason = _join(status_reason, *work.problems)
        enriched = evolve(
            enriched,
            summary=summary.text or note.summary,
            tags=tags,
            category=category,
            status="partial" if status_reason else note.status,
            status_reason=status_reason,
        )
        return Enrichment(enriched, transient=tuple(work.transient))

    # --- steps --------------------------------------------------------------------------

    def _feed_item(
        self, source: Source, *, link: str, title: str, work: _Work, alone: bool
    ) -> tuple[Source, FeedItem | None]:
        """Fetch the feed and find the capture's item; ``alone``: the feed is all there is."""
        try:
            feed, result = self._feeds.get(source.url)
            item = find_item(feed, link=link, title=title)
            if item is None and result.from_cache and result.fetched_at < self.fetcher.started_at:
                # A copy from an earlier run may predate the item: fetch the feed again.
                feed, result = self._feeds.get(source.url, refresh=True)
                item = find_item(feed, link=link, title=title)
        except NotCachedError:
            return source, None
        except FetchError as exc:
            if alone:
                work.failed(exc)
            return evolve(source, error=exc.reason), None
        site = source.site or feed.title
        if item is None:
            return evolve(
                source,
                site=site,
                fetched_at=result.fetched_at,
                error="the feed has no item for this capture (it may have rotated out)",
            ), None
        return evolve(
            source,
            title=item.title,
            author=item.author,
            site=site,
            published=item.published,
            fetched_at=result.fetched_at,
            error="",
        ), item

    def _page(self, source: Source, work: _Work, *, found: bool) -> tuple[Source, Article | None]:
        """Fetch one page and extract it; ``found``: its URL came from fetched content."""
        try:
            result = self.fetcher.fetch(
                source.url, allow_private=not (found and self.block_private_addresses)
            )
        except NotCachedError:
            return source, None
        except AddressRefusedError as exc:
            error = AddressRefusedError(
                exc.url,
                f"{exc.reason} (a link found in fetched content; "
                "set block_private_addresses = false to follow it)",
            )
            work.failed(error)
            return evolve(source, error=error.reason), None
        except FetchError as exc:
            work.failed(exc)
            return evolve(source, error=exc.reason), None
        if result.kind == "attachment":
            reason = f"not a web page ({result.content_type})"
            work.problems.append(f"{reason} for {source.url}")
            return evolve(
                source,
                kind="attachment",
                title=source.title or _title_from_url(result.final_url),
                fetched_at=result.fetched_at,
                error=reason,
            ), None
        if result.kind == "feed":
            try:
                feed = parse_feed(result.content, url=result.final_url, headers=result.headers)
            except FeedError as exc:
                work.failed(exc)
                return evolve(source, error=exc.reason, fetched_at=result.fetched_at), None
            return evolve(
                source, kind="feed", title=feed.title, site=feed.title, fetched_at=result.fetched_at
            ), None
        article = extract_article(result.text(), url=result.final_url)
        if article.problem:
            work.problems.append(f"{article.problem} for {source.url}")
        return evolve(
            source,
            title=article.title or source.title,
            author=article.author,
            site=article.site or source.site,
            published=article.published,
            fetched_at=result.fetched_at,
            error=article.problem,
            text=article.text or (article.description if article.problem else ""),
        ), article
