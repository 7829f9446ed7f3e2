"""Enrichment benchmarks: extraction quality, concurrent fetching, memory under hostile pages.

(a) Extraction quality on ../shared/corpus/pages: our article text (Markdown syntax
    stripped) against bare ``trafilatura.extract`` on the same pages in the same run, by
    the corpus README's metric (4-gram shingles) and by plain tokens. Target: not below.
(b) Concurrency: captures from a generated inbox against a local server adding 200 ms to
    every request, processed by ``process_inbox`` (default enricher), against fetching
    the same URLs one after another. Target: at most 0.35x.
(c) Peak memory of a run whose captures name a 50 MB page and a gzip bomb. Target: under 1 GB.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import zlib
from pathlib import Path

import httpx

from obsidian_inbox._fetch import CACHE_ENV

from ._util import (
    CORPUS,
    extraction_scores,
    peak_memory_mb,
    report,
    report_at_least,
    serve_site,
    tool,
    write_json,
)


def quality(quick: bool, figures: dict[str, object]) -> int:
    """(a): our extraction against bare trafilatura on the corpus pages."""
    import trafilatura

    from obsidian_inbox._extract import extract_article, plain_text

    pages = CORPUS / "pages"
    if not (pages / "expected.json").exists():
        print(f"  (a) skipped: no corpus at {CORPUS} (set OBSIDIAN_INBOX_CORPUS)")
        return 0
    expected = json.loads((pages / "expected.json").read_text(encoding="utf-8"))
    names = sorted(expected)[: 30 if quick else None]
    ours, bare = [], []
    ours_time = bare_time = 0.0
    for name in names:
        html = (pages / name).read_text(encoding="utf-8")
        url, text = expected[name]["url"], expected[name]["text"]
        start = time.perf_counter()
        ours.append((plain_text(extract_article(html, url=url).text), text))
        ours_time += time.perf_counter() - start
        start = time.perf_counter()
        bare.append((trafilatura.extract(html, url=url) or "", text))
        bare_time += time.perf_counter() - start
    failures = 0
    print(
        f"  (a) extraction quality on {len(names)} corpus pages (ours / bare trafilatura.extract)"
    )
    for label, n in (("4-gram shingle", 4), ("whitespace token", None)):
        mine, theirs = extraction_scores(ours, n=n), extraction_scores(bare, n=n)
        figures[f"quality_{label.split()[0]}"] = {"ours": mine, "bare": theirs}
        failures += not report_at_least(f"{label} F1", mine["f1"], theirs["f1"], 1.0)
        print(
            f"      precision {mine['precision']:.4f} / {theirs['precision']:.4f}, "
            f"recall {mine['recall']:.4f} / {theirs['recall']:.4f}, "
            f"exact {mine['accuracy']:.3f} / {theirs['accuracy']:.3f}"
        )
    report("extraction time (ours, with metadata and Markdown)", ours_time, bare_time, None)
    return failures


def concurrency(quick: bool, figures: dict[str, object]) -> int:
    """(b): process_inbox on a generated inbox against fetching its URLs one by one."""
    import obsidian_inbox

    items = 40 if quick else 120
    work = Path(tempfile.mkdtemp(prefix="bench-enrich-"))
    try:
        (work / "site").mkdir()
        with serve_site(work / "site", delay_ms=200) as base:
            tool("make_vault.py", "--notes", "300", "--seed", "3", work / "vault")
            tool(
                "make_inbox.py", "--items", str(items), "--seed", "3", "--vault", work / "vault",
                "--site", work / "site", "--base-url", base, work / "inbox",
            )  # fmt: skip
            manifest = json.loads((work / "site" / ".manifest.json").read_text(encoding="utf-8"))
            urls = sorted(
                {f["url"] for item in manifest["items"].values() for f in item["fetches"]}
            )
            start = time.perf_counter()
            # The same limits as ours: 5 redirects; an error is an answer too.
            with httpx.Client(follow_redirects=True, max_redirects=5, timeout=30) as client:
                for url in urls:
                    with contextlib.suppress(httpx.HTTPError):
                        client.get(url)
            sequential = time.perf_counter() - start

            saved = os.environ.get(CACHE_ENV)
            os.environ[CACHE_ENV] = str(work / "cache")  # a cold cache
            try:
                start = time.perf_counter()
                result = obsidian_inbox.process_inbox(
                    work / "vault",
                    inbox=work / "inbox",
                    settings=obsidian_inbox.Settings(settle_seconds=0),
                )
                ours = time.perf_counter() - start
            finally:
                if saved is None:
                    del os.environ[CACHE_ENV]
                else:
                    os.environ[CACHE_ENV] = saved
            stats = httpx.get(f"{base}/_stats").json()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"  (b) {items} captures, {len(urls)} URLs, 200 ms per request: {result.summary()}")
    print(f"      at most {stats['max_in_flight']} requests in flight")
    figures["concurrency"] = {
        "captures": items,
        "urls": len(urls),
        "ours_s": ours,
        "sequential_s": sequential,
        "ratio": ours / sequential,
        "max_in_flight": stats["max_in_flight"],
        "outcomes": dict(result.counts()),
    }
    # A run of 40 is dominated by the back-off waits of its one failing URL (about 4 s):
    # the target is for the full size.
    return not report(
        "process_inbox vs sequential fetching", ours, sequential, None if quick else 0.35
    )


_MEMORY_RUN = """
import os, pathlib, sys
import obsidian_inbox
vault = pathlib.Path(sys.argv[1])
report = obsidian_inbox.process_inbox(vault, settings=obsidian_inbox.Settings(settle_seconds=0))
assert {o.status for o in report.outcomes} == {"partial"}, report.outcomes
"""


def memory(quick: bool, figures: dict[str, object]) -> int:
    """(c): a run whose captures name a 50 MB page and a gzip bomb."""
    work = Path(tempfile.mkdtemp(prefix="bench-enrich-mem-"))
    try:
        site = work / "site"
        (site / "big").mkdir(parents=True)
        paragraph = b"<p>" + b"All work and no play makes a very long page. " * 20 + b"</p>\n"
        with (site / "big" / "index.html").open("wb") as handle:
            handle.write(b"<!DOCTYPE html><html><body><article>")
            for _ in range(50_000_000 // len(paragraph) + 1):
                handle.write(paragraph)
            handle.write(b"</article></body></html>")
        (site / "bomb").mkdir()
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = b"\0" * 1_000_000
        with (site / "bomb" / "index.html").open("wb") as handle:
            for _ in range(2_000 if not quick else 200):  # 2 GB (200 MB quick) of zeros
                handle.write(compressor.compress(zeros))
            handle.write(compressor.flush())
        (site / "_routes.json").write_text(
            json.dumps({"/bomb/": {"headers": {"Content-Encoding": "gzip"}}}), encoding="utf-8"
        )
        vault = work / "vault"
        (vault / ".obsidian").mkdir(parents=True)
        (vault / "Inbox").mkdir()
        with serve_site(site) as base:
            for name, path in (("big", "/big/"), ("bomb", "/bomb/")):
                (vault / "Inbox" / f"20250901_090000_link_{name}.txt").write_text(
                    f"Link: {base}{path}\n", encoding="utf-8"
                )
            code = (
                f"import os, sys; os.environ[{CACHE_ENV!r}] = {str(work / 'cache')!r}; "
                f"sys.argv[1:] = [{str(vault)!r}]\n" + _MEMORY_RUN
            )
            peak = peak_memory_mb(code)
            baseline = peak_memory_mb("import obsidian_inbox, trafilatura, feedparser")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"  (c) 50 MB page + gzip bomb ({'200 MB' if quick else '2 GB'} decompressed): peak "
        f"{peak:.0f} MB; the imports alone take {baseline:.0f} MB"
    )
    figures["memory"] = {"peak_mb": peak, "imports_mb": baseline}
    return not report("peak memory (against the 1 GB limit)", peak, 1024, 1.0, unit="MB")


def run(quick: bool) -> int:
    """Run the enrichment benchmarks; return how many targets were missed."""
    figures: dict[str, object] = {"quick": quick}
    failures = quality(quick, figures) + concurrency(quick, figures) + memory(quick, figures)
    write_json("enrich", figures)
    return failures
