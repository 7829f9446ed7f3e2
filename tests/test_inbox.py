"""The inbox parser: every capture kind, every encoding, every way a capture can be bad."""

from __future__ import annotations

import codecs
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from obsidian_inbox import InboxParseError, Note, parse_inbox_file
from obsidian_inbox._inbox import _timestamp, decode_capture, lead_sentences, parse_capture
from obsidian_inbox._naming import is_valid_file_name, note_file_name
from obsidian_inbox._urls import _schema_hits, _schema_search, find_urls

DATA = Path(__file__).parent / "data" / "captures"
CAPTURES = sorted(DATA.glob("*.txt"))
SEED = DATA / "20250918_114949_rss_How_to_Become_a_Machine_Learning_Engineer__Step-by.txt"


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem[:40])
def test_capture_makes_the_expected_note(capture: Path) -> None:
    expected = capture.with_suffix(".expected.md").read_text(encoding="utf-8")
    note = parse_inbox_file(capture)
    assert note.to_markdown() == expected
    assert Note.from_markdown(expected) == note


def test_seed_capture_keeps_the_seed_shape_without_its_flaws() -> None:
    note = parse_inbox_file(SEED)
    markdown = note.to_markdown()
    assert note.title == "How to Become a Machine Learning Engineer (Step-by-Step)"
    assert note.created == dt.datetime(2025, 9, 18, 11, 49, 49)
    assert note.original_file == SEED.name
    assert (
        note.url
        == "https://towardsdatascience.com/dont-follow-generic-ml-engineer-roadmaps-do-this-instead-2/"
    )
    assert [(s.kind, s.url) for s in note.sources] == [
        ("feed", "https://towardsdatascience.com/feed"),
        ("article", note.url),
    ]
    assert note.sources[0].site == "Towards Data Science"
    assert note.connections == ("Towards Data Science",)
    assert "- [[Towards Data Science]]" in markdown
    for key in (
        "type",
        "category",
        "created",
        "modified",
        "tags",
        "status",
        "source",
        "original_file",
    ):
        assert f"\n{key}:" in markdown
    for heading in (
        "# How to Become",
        "## summary",
        "## content",
        "## Scraped from https://",
        "## connections",
    ):
        assert f"\n{heading}" in markdown
    assert "appeared first on" not in markdown
    assert "&#" not in markdown
    assert "<?xml" not in markdown


def test_rss_capture_decodes_entities_and_drops_tracking_and_boilerplate() -> None:
    note = parse_inbox_file(
        DATA / "20250920_081500_rss_What_s_New_in_Python_3_14___Why_It_Matters.txt"
    )
    assert note.title == "What’s New in Python 3.14 & Why It Matters"
    assert note.summary == "A tour of the release — from free-threading to t-strings."
    assert note.url == "https://harbor.example/2025/09/what-s-new/"
    assert "&amp;" not in note.to_markdown()
    assert "&#" not in note.to_markdown()


def test_link_capture_with_title_and_comment() -> None:
    note = parse_inbox_file(DATA / "20250921_193012_link_Slow_Productivity__Reconsidered.txt")
    assert note.title == "Slow Productivity, Reconsidered"
    assert note.tags == ("productivity", "books/non-fiction")
    assert "Read this on the train." in note.content
    assert [s.url for s in note.sources] == ["https://example.org/articles/slow-productivity"]


def test_bare_url_capture_gets_a_title_from_the_url() -> None:
    note = parse_inbox_file(DATA / "20251001_070000_link_why-sqlite.txt")
    assert note.title == "Why sqlite"
    assert note.url == "https://blog.example.com/2025/10/why-sqlite/"


def test_lower_case_paragraph_after_a_link_is_a_comment_not_a_title() -> None:
    note = parse_inbox_file(DATA / "20251002_121314_link_watch.txt")
    assert note.title == "watch"  # from the file name: the comment is not a title
    assert "worth watching again" in note.content


def test_thought_capture_takes_its_first_sentence_and_hashtags() -> None:
    note = parse_inbox_file(
        DATA / "20251003_064501_note_Try_the_slower_pour-over_recipe__it_tasted_better.txt"
    )
    assert note.title == "Try the slower pour-over recipe, it tasted better"
    assert note.tags == ("coffee", "recipes/brewing")
    assert note.url == ""
    assert note.sources == ()


def test_capture_with_several_urls_lists_them_all_as_sources() -> None:
    note = parse_inbox_file(DATA / "20251004_101010_shortcut_Reading_list_for_the_weekend.txt")
    assert note.title == "Reading list for the weekend"
    assert [s.url for s in note.sources] == [
        "https://a.example/one",
        "https://b.example/two?ref=x",
        "https://c.example/three",
    ]
    assert note.url == ""  # about several pages: identity is the capture's, not a URL's
    assert note.tags == ("reading",)


def test_capture_with_frontmatter_keeps_the_users_properties_in_order() -> None:
    note = parse_inbox_file(DATA / "20251005_150000_note_meeting.txt")
    assert note.title == "Meeting notes with Ana"
    assert list(note.properties) == ["project", "rating"]
    assert note.properties == {"project": "Atlas", "rating": 4}
    assert note.tags == ("work", "1-1")
    assert "<script>" not in note.content.replace("\\<", "")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("20251006_090000_link_lost.txt", 'the "Link:" line is empty'),
        (
            "20251006_090100_link_file_scheme.txt",
            "the link 'file:///etc/passwd' is not an http(s) URL",
        ),
    ],
)
def test_capture_with_unusable_link_is_partial_with_a_reason(name: str, reason: str) -> None:
    note = parse_inbox_file(DATA / name)
    assert note.status == "partial"
    assert note.status_reason == reason
    assert note.sources == ()


@pytest.mark.parametrize(
    ("data", "title"),
    [
        ("Caf\u00e9 au lait #drinks\n".encode("utf-8-sig"), "Café au lait drinks"),
        ("Caf\u00e9 au lait. #drinks\n".encode("utf-16"), "Café au lait"),
        (codecs.BOM_UTF16_BE + "Caf\u00e9 au lait\n".encode("utf-16-be"), "Café au lait"),
        ("Caf\u00e9 \u201cau\u201d lait\r\n".encode("cp1252"), "Café “au” lait"),
        (b"Line one\r\nLine two\r\n", "Line one"),
    ],
    ids=["utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "windows-1252", "crlf"],
)
def test_encodings(tmp_path: Path, data: bytes, title: str) -> None:
    capture = tmp_path / "20250101_120000_note_x.txt"
    capture.write_bytes(data)
    note = parse_inbox_file(capture)
    assert note.title == title
    assert "\r" not in note.to_markdown()


def test_legacy_bytes_inside_utf8_text_are_read_as_windows_1252(tmp_path: Path) -> None:
    capture = tmp_path / "20250101_120000_note_x.txt"
    capture.write_bytes(b"Link: https://a.example/\n\nA comment about the caf\xe9 \x93menu\x94\n")
    note = parse_inbox_file(capture)
    assert "café “menu”" in note.content


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty capture"),
        (b"  \r\n\n\t ", "empty capture"),
        (codecs.BOM_UTF8, "empty capture"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "binary file"),
        (b"text with a NUL \x00 byte in it", "binary file"),
        (bytes(range(1, 32)) * 20, "binary file"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "not valid UTF-16"),
    ],
    ids=["empty", "blank", "bom-only", "png", "nul", "control-chars", "bad-utf16"],
)
def test_bad_captures_raise_a_clear_error_naming_the_file(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    capture = tmp_path / "20250101_120000_note_bad.txt"
    capture.write_bytes(data)
    with pytest.raises(InboxParseError, match=reason) as info:
        parse_inbox_file(capture)
    assert str(capture) in str(info.value)
    assert info.value.path == capture
    assert capture.read_bytes() == data  # the capture is left as it was


def test_oversized_capture_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    capture = tmp_path / "big.txt"
    capture.write_bytes(b"x" * 2_000_001)
    with pytest.raises(
        InboxParseError, match=r"too large: 2,000,001 bytes, over the 1,000,000-byte limit"
    ):
        parse_inbox_file(capture)


def test_broken_frontmatter_names_the_line(tmp_path: Path) -> None:
    capture = tmp_path / "x.txt"
    capture.write_text("---\ntitle: ok\ntags: [unclosed\n---\nbody\n", encoding="utf-8")
    with pytest.raises(InboxParseError, match="invalid YAML frontmatter") as info:
        parse_inbox_file(capture)
    assert info.value.line is not None


def test_unreadable_and_missing_captures(tmp_path: Path) -> None:
    with pytest.raises(InboxParseError, match="cannot read"):
        parse_inbox_file(tmp_path / "missing.txt")
    with pytest.raises(InboxParseError, match="is a folder"):
        parse_inbox_file(tmp_path)


def test_file_without_timestamp_takes_its_date_from_the_file(tmp_path: Path) -> None:
    capture = tmp_path / "random name.txt"
    capture.write_text("Just a thought about gardens.\n", encoding="utf-8")
    when = dt.datetime(2024, 5, 6, 7, 8, 9)
    os.utime(capture, (when.timestamp(), when.timestamp()))
    note = parse_inbox_file(capture)
    assert note.created == when
    assert note.title == "Just a thought about gardens"


def test_same_bytes_and_name_give_the_same_capture_id(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "20250101_000000_note_x.txt").write_text("same\n", encoding="utf-8")
    first = parse_inbox_file(tmp_path / "a" / "20250101_000000_note_x.txt")
    second = parse_inbox_file(tmp_path / "b" / "20250101_000000_note_x.txt")
    assert first.capture_id == second.capture_id
    assert len(first.capture_id) == 16


def test_decode_capture_prefers_utf8() -> None:
    assert decode_capture("naïve".encode()) == "naïve"


def test_lead_sentences_cut_at_a_sentence_boundary() -> None:
    text = "First sentence here. Second one is longer than the first. Third."
    assert lead_sentences(text, limit=45) == "First sentence here."
    assert lead_sentences("word " * 100, limit=20).endswith("…")
    assert lead_sentences("short", limit=20) == "short"


@given(
    st.text(max_size=300),
    st.sampled_from(["20250101_120000_note_x.txt", "20250101_120000_rss_y.txt", "free.txt"]),
)
def test_any_text_gives_a_valid_note_or_a_clear_error(text: str, file_name: str) -> None:
    try:
        note = parse_capture(text, file_name=file_name, modified=dt.datetime(2025, 1, 1))
    except InboxParseError as exc:
        reason = exc.reason
        assert reason.startswith("empty capture")  # the only way plain text can be refused
        return
    assert note.title
    assert Note.from_markdown(note.to_markdown()) == note
    assert is_valid_file_name(note_file_name(note.title))


# --- finding URLs: linkify-it's rules, tried only where a schema is -------------------------

_url_texts = st.lists(
    st.one_of(
        st.sampled_from(["http:", "HTTPS:", "hTtP:", "ftp:", "mailto:", "//", "///", "httpſ:"]),
        st.sampled_from(["a.b", "x.example", "/path", "?q=1", "#f", "@", "user@a.b", "www."]),
        st.sampled_from([":", "/", "_", "<", ">", "(", ")", "｜", "、", " ", "\n", "ı", "-"]),
        st.text(max_size=3),
    ),
    max_size=30,
).map("".join)


@given(_url_texts)
def test_schemas_are_found_where_linkify_finds_them(text: str) -> None:
    """Trying only where a schema is finds exactly what scanning the whole text does."""
    fast = [hit.span() for hit in _schema_hits(text)]
    assert fast == [hit.span() for hit in _schema_search().finditer(text)]


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        (
            "Link: https://a.example/x\n\nSee http://b.example/y.",
            ["https://a.example/x", "http://b.example/y"],
        ),
        ("HTTP://A.EXAMPLE/Z and ftp://c.example/", ["HTTP://A.EXAMPLE/Z"]),
        (
            "x:http://a.example (https://b.example/p_(q))",
            ["http://a.example", "https://b.example/p_(q)"],
        ),
        ("no schema: a.example, //b.example", []),
        ("_http://a.example", []),  # linkify-it: not after an underscore
    ],
)
def test_find_urls(text: str, urls: list[str]) -> None:
    assert find_urls(text) == urls


@given(
    st.text(alphabet="0123456789", min_size=14, max_size=14)
    | st.from_regex(r"20\d\d[01]\d[0-3]\d[0-2]\d[0-6]\d[0-6]\d", fullmatch=True)
)
def test_file_name_stamps_read_as_strptime_reads_them(stamp: str) -> None:
    def read(parse: Callable[[str], dt.datetime]) -> dt.datetime | type[ValueError]:
        try:
            return parse(stamp)
        except ValueError:
            return ValueError

    assert read(_timestamp) == read(lambda s: dt.datetime.strptime(s, "%Y%m%d%H%M%S"))
