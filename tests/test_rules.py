"""The vault's own rules, from its configuration file, applied by the enricher."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytest_httpserver import HTTPServer

from obsidian_inbox import CategoryRule, Settings, TagRule, WebEnricher, parse_note, process_inbox
from obsidian_inbox._classify import categorize, rule_tags

from .conftest import RouteTransport

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Feeding a Starter | Crumb</title>
<meta property="og:site_name" content="Crumb"><meta name="author" content="Ana Ruiz">
<meta property="article:published_time" content="2025-09-01T08:00:00+00:00"></head>
<body><nav>Home · Recipes · About</nav><article><h1>Feeding a Starter</h1>
<p>A sourdough starter needs flour and water every day. Keep it warm, and discard half before
each feeding so that the jar does not overflow. After a week the starter doubles in four hours,
which is when it is ready to bake with.</p>
<p>Rye flour makes a livelier starter than white flour, and filtered water avoids chlorine.
Write down the times in a notebook and you will see the rhythm of your kitchen.</p>
</article><footer>© Crumb</footer></body></html>"""


def test_sites_and_tag_rules_match() -> None:
    rules = [CategoryRule(category="code", sites=["github.com"])]
    assert categorize(hosts=["gist.github.com"], rules=rules) == "code"
    assert categorize(hosts=["notgithub.com"], rules=rules) == ""
    tag_rules = [
        TagRule(tag="bread", keywords=["sourdough starter"]),
        TagRule(tag="gh", sites=["github.com"]),
    ]
    assert rule_tags(tag_rules, text="My Sourdough  starter died", hosts=[]) == ["bread"]
    assert rule_tags(tag_rules, text="nothing", hosts=["www.github.com"]) == ["gh"]


def test_the_configuration_rules_decide_tags_and_category(
    vault: Path, capture: Callable[..., Path], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/2025/09/feeding-a-starter/").respond_with_data(
        PAGE, content_type="text/html; charset=utf-8"
    )
    capture(
        "20250901_090000_link_starter.txt",
        "Link: https://crumb.example/2025/09/feeding-a-starter/\n",
    )
    settings = Settings(
        settle_seconds=0,
        category_rules=({"category": "kitchen", "keywords": [], "sites": ["crumb.example"]},),
        tag_rules=({"tag": "bread", "keywords": ["sourdough"], "sites": []},),
    )
    transport = RouteTransport({"crumb.example": httpserver.url_for("/")})
    with WebEnricher.from_settings(settings, cache=False, transport=transport) as enricher:
        assert enricher.fetcher.timeout.read == settings.fetch_timeout
        report = process_inbox(vault, settings=settings, enricher=enricher)
    (outcome,) = report.outcomes
    assert outcome.status == "created", outcome.reason
    note = parse_note((vault / (outcome.note or "")).read_text(encoding="utf-8"))
    assert note.title == "Feeding a Starter"
    assert note.category == "kitchen"  # the vault's rule, before the built-in "cooking"
    assert "bread" in note.tags
    assert "discard half before each feeding" in note.sources[0].text
    assert "Home · Recipes" not in note.sources[0].text


def test_without_rules_of_its_own_the_built_in_rules_decide(
    vault: Path, capture: Callable[..., Path], httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/2025/09/feeding-a-starter/").respond_with_data(
        PAGE, content_type="text/html; charset=utf-8"
    )
    capture(
        "20250901_090000_link_starter.txt",
        "Link: https://crumb.example/2025/09/feeding-a-starter/\n",
    )
    settings = Settings(settle_seconds=0)
    transport = RouteTransport({"crumb.example": httpserver.url_for("/")})
    with WebEnricher.from_settings(settings, cache=False, transport=transport) as enricher:
        report = process_inbox(vault, settings=settings, enricher=enricher)
    note = parse_note((vault / (report.outcomes[0].note or "")).read_text(encoding="utf-8"))
    assert note.category == "cooking"
