"""The fuzzing campaign: every parser entry point on hostile input (``nox -s fuzz``).

Each ``test_fuzz_*`` target runs the profile's number of examples: 100 in the normal
suite, ``FUZZ_EXAMPLES`` (10^5) under ``HYPOTHESIS_PROFILE=fuzz``. The invariants:

- the inbox parser turns any bytes into a note or an :class:`ObsidianInboxError` naming
  the file, and the note renders and reads back unchanged;
- the note reader raises nothing but :class:`ObsidianInboxError` on any text, reads YAML
  safely, and reads back every note it renders;
- the file-name cleaner always makes a valid name inside its folder;
- the linker never raises, links only prose, and is idempotent.

The ``test_hostile_*`` tests are plain tests: pathological text (10^5 backticks, deep
nesting, ...) is parsed, rendered and linked in bounded time.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import sys
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from obsidian_inbox import (
    LinkOptions,
    Note,
    NoteInfo,
    ObsidianInboxError,
    Vault,
    VaultIndex,
    VaultLinker,
)
from obsidian_inbox._inbox import parse_capture, parse_inbox_file
from obsidian_inbox._markdown import one_line
from obsidian_inbox._naming import (
    MAX_NAME_BYTES,
    clean_file_stem,
    format_name,
    is_valid_file_name,
    name_fields,
    note_file_name,
    with_suffix_number,
)
from obsidian_inbox._render import parse_note, verify_rendered
from obsidian_inbox._urls import find_urls

from . import strategies
from .test_links_properties import protected

fuzz = pytest.mark.fuzz

#: A hang guard, not a speed test (speed is measured by ``nox -s bench``): inputs that once
#: took minutes or never ended must finish within this many seconds. Generous, for a shared,
#: slow machine; tripled under a tracer (coverage, in CI).
BOUND = 20.0 * (3 if sys.gettrace() is not None or "coverage" in sys.modules else 1)
finishes = pytest.mark.timeout(BOUND)

# --- strategies -------------------------------------------------------------------------

_YAML_FRAGMENTS = st.sampled_from(
    [
        "title: x",
        "tags: [a, b]",
        "tags: 5",
        "tags: {a: 1}",
        "tags:\n  - [a]\n  - {b: c}",
        "created: 2025-09-18",
        "created: 2025-13-45",
        "created: 0001-01-01",
        "created: 9999-12-31T23:59:59",
        "created: 2025-09-18T11:49:49+25:00",
        "created: [1]",
        "created: .inf",
        "modified: yes",
        "captured: 12:30",
        "fetched_at: 1e400",
        "type: ~",
        "type: [a]",
        "category: {x: y}",
        "status: 1.5",
        "capture_id: a b",
        "capture_id: 12",
        "url: 'http://a b'",
        "url: [x]",
        "connections: '[[a|b]]'",
        "connections: [a, '[x]', 'b|c', 1]",
        "summary: x",
        "aliases: [a, b]",
        "x: !!python/object/apply:os.system ['echo pwned']",
        "x: !!python/name:os.system",
        "x: !!binary aGk=",
        "x: !!set {a, b}",
        "x: !!omap [a: 1]",
        "x: !!float nan",
        "x: !!timestamp 2001-12-14",
        "x: !custom 1",
        "a: &a [1, 2]\nb: *a",
        "a: &a [*a]",
        "b: *undefined",
        "? [a, b]\n: c",
        "? {a: b}\n: c",
        "1: 2",
        "null: 1",
        "2025-01-01: d",
        "<<: {a: 1}",
        "<<: [1]",
        "'': empty",
        "x: 'unterminated",
        'x: "\\x00\\ud800"',
        "x: |\n  block\n  text",
        "x: >-\n  folded",
        "\t: tab",
        "- a list",
        "just text",
        "[1, 2]",
        "%YAML 1.1",
        "--- # doc",
        "...",
        "x: [" * 30,
        "x: " + "[" * 200 + "]" * 200,
        "x: " + "{a: " * 60 + "1" + "}" * 60,
        "k: \u2028v",
        "k: \x85v",
        "k: \ufeffv",
        "k\x01: v",
        "x: 0x1F",
        "x: 0o17",
        "x: 1_000",
        "x: -.inf",
        "x: ''",
        "x: !!str",
        "x: !!int 'a'",
    ]
)
yaml_text = st.lists(
    st.one_of(_YAML_FRAGMENTS, strategies.one_line_text, st.just("")), max_size=6
).map("\n".join)

#: Text a note reader may meet: frontmatter (valid, broken, tagged), headings, sections.
note_like_text = st.builds(
    lambda front, fence, title, body, newline: (
        (f"{fence}\n{front}\n{fence}\n" if fence else "") + title + body
    ).replace("\n", newline),
    yaml_text,
    st.sampled_from(["---", "---", "", "+++", "--- "]),
    st.sampled_from(["", "# T\n", "# \n", "#\n", "T\n===\n", "# [[x]]\n", "# `x`\n"]),
    st.lists(
        st.one_of(
            strategies.markdown_text,
            st.sampled_from(
                [
                    "\n## summary\n",
                    "\n## content\n",
                    "\n## connections\n- [[a]]\n- [[b|c]]\n",
                    "\n## Scraped from http://x.y\n> - kind: feed\n> - published: 2025-99-99\n",
                    "\n## Scraped from http://x.y\n> - fetched: 0000-00-00T00:00\n> - kind: x\n",
                    "\n## Scraped from \n",
                    "\n# Second\n",
                    "\n## \n",
                ]
            ),
        ),
        max_size=6,
    ).map("".join),
    st.sampled_from(["\n", "\n", "\r\n", "\r"]),
)

_HEADER_LINES = st.sampled_from(
    [
        "RSS Feed: Site",
        "RSS Feed: a | b [c]",
        "Feed: ",
        "Source: https://a.example/feed",
        "Source: javascript:alert(1)",
        "Link: https://a.example/x",
        "Link: ",
        "Link: file:///etc/passwd",
        "Link: http://[::1",
        "Link: https://a.example/" + "x" * 300,
        "URL: data:text/html,x",
        "Title: A title",
        "Title: ",
        "title:",
    ]
)
_CAPTURE_LINES = st.one_of(
    _HEADER_LINES,
    strategies.one_line_text,
    st.sampled_from(
        [
            "",
            "---",
            "...",
            "#tag #a/b #-",
            "The post X appeared first on Y.",
            "&amp;#8217; &lt;b&gt; &#0; &#x110000; &#99999999999;",
            "<script>alert(1)</script>",
            "https://a.example/p?utm_source=x",
            "www.example.org",
            "title: !!python/object/apply:os.system ['echo pwned']",
            "tags: [a, {b: c}]",
            "created: 2025-02-30",
        ]
    ),
)
capture_text = st.lists(_CAPTURE_LINES, max_size=12).map("\n".join)
capture_names = st.one_of(
    st.sampled_from(
        [
            "20250918_114949_rss_How_to_Become.txt",
            "20250918_114949_link_x.txt",
            "20250918_114949_note.txt",
            "20250918_114949_shortcut_.txt",
            "20250918_999999_rss_x.txt",
            "00000000_000000.txt",
            "20250918-114949_Some_title.txt",
            "capture.txt",
            ".txt",
            "CON.txt",
        ]
    ),
    st.builds(
        lambda stem: f"{stem}.txt",
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="/\x00"), max_size=40),
    ),
)


def _encoded(text: str, encoding: str, bom: bytes, newline: str) -> bytes:
    return bom + text.replace("\n", newline).encode(encoding, errors="replace")


capture_bytes = st.one_of(
    st.binary(max_size=400),
    st.builds(
        _encoded,
        capture_text,
        st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "cp1252", "latin-1", "shift_jis"]),
        st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]),
        st.sampled_from(["\n", "\r\n", "\r", "\n\x00"]),
    ),
    st.builds(lambda a, b: a + b, capture_text.map(str.encode), st.binary(max_size=20)),
)

# --- 1. the inbox parser ----------------------------------------------------------------


def _outcome(parse: Callable[[], Note]) -> Note | ObsidianInboxError:
    """The note ``parse`` returns, or the ObsidianInboxError it raises (any other propagates)."""
    try:
        return parse()
    except ObsidianInboxError as exc:
        return exc


def _round_trips(note: Note) -> None:
    markdown = note.to_markdown()
    assert Note.from_markdown(markdown) == note


@fuzz
@given(capture_text, capture_names)
@example("---\ntitle: !!python/object/apply:os.system ['echo pwned']\n---\nx", "a.txt")
@example("---\ntags: [a, {b: c}]\n---\nx", "a.txt")
def test_fuzz_capture_parser(text: str, file_name: str) -> None:
    note = _outcome(lambda: parse_capture(text, file_name=file_name, path=file_name))
    if isinstance(note, ObsidianInboxError):
        assert file_name in str(note)
        return
    _round_trips(note)


@pytest.fixture(scope="module")
def capture_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inbox")


@fuzz
@given(data=capture_bytes)
@example(b"")
@example(b"\xff\xfe\x00\xd8")  # a UTF-16 BOM, then a lone surrogate
@example(b"\xef\xbb\xbf---\nx: [\n---\n")
def test_fuzz_inbox_file_parser(capture_folder: Path, data: bytes) -> None:
    path = capture_folder / "20250918_114949_note_capture.txt"
    path.write_bytes(data)
    note = _outcome(lambda: parse_inbox_file(path))
    if isinstance(note, ObsidianInboxError):
        assert str(path) in str(note)
        return
    _round_trips(note)


# --- 2. the note reader -----------------------------------------------------------------


@fuzz
@given(st.one_of(note_like_text, st.text(max_size=200), strategies.markdown_text))
@example("---\nx: !!python/object/apply:os.system ['echo pwned']\n---\n# T\n")
@example("---\ntags: {a: 1}\n---\n# T\n")
@example("---\ncapture_id: a b\n---\n# T\n")
@example("---\nconnections: [a, '[x]']\n---\n# T\n")
@example("---\ncreated: 9999-12-31T23:59:59+25:00\n---\n# T\n")
def test_fuzz_note_reader(text: str) -> None:
    note = _outcome(lambda: parse_note(text, path="note.md"))
    if isinstance(note, ObsidianInboxError):
        assert "note.md" in str(note)
        return
    again = Note.from_markdown(note.to_markdown())
    assert again == note


@fuzz
@given(strategies.notes)
# python-frontmatter's str.strip() took a no-break space ending the frontmatter's last value
@example(Note(title="0", properties={"0": "\xa0"}))
def test_fuzz_generated_notes_round_trip(note: Note) -> None:
    assert Note.from_markdown(note.to_markdown()) == note


@pytest.mark.parametrize("space", ["\xa0", "\u2003", "\u3000", "\u2028"])
def test_a_last_property_ending_in_unicode_space_reads_back(space: str) -> None:
    note = Note(title="T", properties={"first": f"a{space}", "last": f"b{space}"})
    assert Note.from_markdown(note.to_markdown()) == note


def test_yaml_tags_never_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    command = f"touch {marker}"
    for payload in (
        f"!!python/object/apply:os.system [{command!r}]",
        f"!!python/object/apply:subprocess.call [[touch, {str(marker)!r}]]",
        "!!python/name:os.system",
    ):
        text = f"---\nx: {payload}\n---\n# T\n"
        with pytest.raises(ObsidianInboxError, match="YAML"):
            parse_note(text, path="note.md")
        capture = tmp_path / "capture.txt"
        capture.write_text(text)
        with pytest.raises(ObsidianInboxError, match="YAML"):
            parse_inbox_file(capture)
    assert not marker.exists()


# --- 3. the file-name cleaner -----------------------------------------------------------

_any_text = st.one_of(
    st.text(max_size=300),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.lists(
        st.sampled_from(
            [
                *["..", "/", "\\", ".", " ", "CON", "nul", "COM¹", "LPT9", ":", "e\u0301", "🙂"],
                *["%%", "#", "^", "[[", "]]", "|", "\x00", "\u200b", "\ufeff", "\u2028", "ß", "ǅ"],
            ]
        ),
        max_size=80,
    ).map("".join),
)


def _check_name(name: str, folder: Path | None = None) -> None:
    assert is_valid_file_name(name), name
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert unicodedata.is_normalized("NFC", name)
    assert "/" not in name
    assert "\\" not in name
    assert name not in {".", ".."}
    if folder is not None:
        assert (folder / name).resolve().parent == folder.resolve()


@fuzz
@given(_any_text, st.integers(1, 10**6))
@example("CON", 1)
@example("..", 2)
@example("e\u0301" * 200, 3)
def test_fuzz_file_name_cleaner(title: str, number: int) -> None:
    stem = clean_file_stem(title)
    _check_name(stem)
    _check_name(stem + ".md")
    _check_name(with_suffix_number(stem, number) + ".md")
    taken = {f"{stem}.md"}
    _check_name(note_file_name(title, exists=taken.__contains__))


@fuzz
@given(
    _any_text,
    st.sampled_from(
        [
            "{title}",
            "{created:%Y-%m-%d} {title}",
            "{category}/{title}",
            "../{title}",
            "{title}/..",
            "{type}{capture_id}",
            "{title:.3}",
        ]
    ),
    _any_text,
)
def test_fuzz_name_templates(title: str, template: str, category: str) -> None:
    if not one_line(title):
        title = "x"
    note = Note(title=title, category=category, created=dt.datetime(2025, 9, 18), type="note")
    _check_name(format_name(template, name_fields(note)) + ".md")


@pytest.fixture(scope="module")
def naming_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    with Vault(tmp_path_factory.mktemp("vault")) as vault:
        yield vault


@fuzz
@given(_any_text, st.sampled_from(["{title}", "{created:%Y} {title}", "{category} {title}"]))
def test_fuzz_vault_note_paths(naming_vault: Vault, title: str, template: str) -> None:
    if not one_line(title):
        title = "x"
    note = Note(title=title, created=dt.datetime(2025, 9, 18))
    relative = naming_vault.new_note_path(note, "Notes", template=template)
    folder, _, name = relative.rpartition("/")
    assert folder == "Notes"
    _check_name(name, naming_vault.path / "Notes")


def test_a_title_of_superscript_digits_gets_a_path(naming_vault: Vault) -> None:
    relative = naming_vault.new_note_path(Note(title="²"), "Notes")
    assert relative == "Notes/².md"


def test_percent_signs_around_a_removed_character_do_not_make_a_comment() -> None:
    # "%#%" lost its "#" after "%%" had been collapsed, leaving "%%" (an Obsidian comment).
    assert clean_file_stem("%#%") == "%"
    assert is_valid_file_name(note_file_name("a%*%b"))


# --- 4. the linker ----------------------------------------------------------------------

_linker_titles = st.lists(
    st.one_of(
        strategies.titles,
        st.sampled_from(strategies.vault_titles),
        st.sampled_from(["`", "[", "*", "#", "http", "a b", "x" * 50, "é", "e\u0301", "I"]),
    ),
    min_size=1,
    max_size=6,
)


def _linker(titles: list[str], aliases: list[str], every: bool) -> VaultLinker:
    # As in a vault: a note's title is its file name; names may repeat in other folders.
    infos = [
        NoteInfo(f"F{i}/{stem}.md", stem, aliases=tuple(aliases[:2]))
        for i, stem in enumerate(clean_file_stem(title) for title in titles)
    ]
    return VaultLinker(VaultIndex(infos), options=LinkOptions(first_only=not every))


@fuzz
@given(
    st.one_of(strategies.mention_markdown, strategies.markdown_text, st.text(max_size=200)),
    _linker_titles,
    st.lists(strategies.one_line_text, max_size=2),
    st.booleans(),
)
@example(  # a setext heading without GFM tables, a paragraph and a table with them
    "Gradient Descent\n| Gradient Descent | b |\n|---|---|\n| Gradient Descent | d |\n"
    "---\ntitle: Index\n---\n<div>",
    ["Gradient Descent"],
    [],
    False,
)
@example("A@A@", ["0"], ["A@"], True)  # the second "A@" follows "@" before and after linking
def test_fuzz_linker(text: str, titles: list[str], aliases: list[str], every: bool) -> None:
    linker = _linker(titles, aliases, every)
    linked, mentions = linker.link_text(text)
    assert linker.link_text(linked)[1] == []
    plain = text.replace("\r\n", "\n").replace("\r", "\n")
    for mention in mentions:
        assert plain[mention.start : mention.end] == mention.text
    # code, HTML, frontmatter, headings, tables and existing links read as before
    assert protected(linked) == protected(plain)
    assert set(find_urls(plain)) <= set(find_urls(linked))  # URLs untouched
    linker.find_mentions(text)


# --- 5. the content extractors -----------------------------------------------------------


@fuzz
@given(st.one_of(st.binary(max_size=300), strategies.html_fragments.map(str.encode)))
def test_fuzz_extractors(data: bytes) -> None:
    from obsidian_inbox._extract import decode_html, extract_article, html_to_markdown, parse_feed

    for call in (
        lambda: extract_article(decode_html(data), url="https://a.example/"),
        lambda: html_to_markdown(data.decode("utf-8", "replace")),
        lambda: parse_feed(data, url="https://a.example/feed"),
    ):
        with contextlib.suppress(ObsidianInboxError):
            call()


# --- regressions: what the campaign found --------------------------------------------------


@pytest.mark.parametrize(
    "value", ["2025-09-18T11:49:49+25:00", "2025-13-45", "2025-02-30 10:00:00"]
)
def test_a_yaml_value_python_cannot_hold_is_a_format_error(value: str, tmp_path: Path) -> None:
    # PyYAML raised ValueError from datetime(), which escaped both readers.
    text = f"---\nwhen: {value}\n---\n# T\n"
    with pytest.raises(ObsidianInboxError, match=r"note\.md: invalid YAML frontmatter"):
        parse_note(text, path="note.md")
    capture = tmp_path / "capture.txt"
    capture.write_text(text)
    with pytest.raises(ObsidianInboxError, match="invalid YAML frontmatter"):
        parse_inbox_file(capture)


def _laughs(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "---\n" + "\n".join(lines) + "\n---\n# T\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (_laughs(9), "too large"),  # 10^9 values once expanded: a "billion laughs"
        ("---\na: &a [*a]\n---\n# T\n", "levels deep"),  # an alias inside itself
        ("---\na: " + "[" * 150 + "]" * 150 + "\n---\n# T\n", "levels deep"),
    ],
)
@finishes
def test_frontmatter_that_expands_without_bound_is_refused(
    text: str, reason: str, tmp_path: Path
) -> None:
    # Nested aliases were copied into Note.properties and rendered in full (10^5 values
    # took a second, 10^9 never end); a self-referencing alias recursed without end.
    with pytest.raises(ObsidianInboxError, match=reason):
        parse_note(text, path="note.md")
    capture = tmp_path / "capture.txt"
    capture.write_text(text)
    with pytest.raises(ObsidianInboxError, match=reason):
        parse_inbox_file(capture)


def test_a_nan_property_reads_back_and_can_be_written() -> None:
    # {"x": nan} != {"x": nan}: the note never equalled itself read back, and
    # verify_rendered refused to write it ("the frontmatter would change x").
    note = parse_note("---\nx: .nan\ny: !!float nan\n---\n# T\n")
    assert note.properties == {"x": ".nan", "y": ".nan"}
    markdown = note.to_markdown()
    verify_rendered(note, markdown)
    assert Note.from_markdown(markdown) == note


def test_a_scraped_from_heading_without_a_url_is_a_section() -> None:
    # "Scraped from x y" made a Source with a URL holding a space: ValueError.
    note = parse_note("# T\n\n## Scraped from my notes\n\ntext\n")
    assert note.sources == ()
    assert note.extra_sections == (("Scraped from my notes", "text"),)
    assert Note.from_markdown(note.to_markdown()) == note


@pytest.mark.parametrize(
    ("line", "field"),
    [("tags: 5", "tags"), ('url: "http://a.b/\\tx"', "url")],
)
def test_a_known_value_the_note_refuses_is_dropped(line: str, field: str) -> None:
    # The validators' ValueError escaped parse_note.
    note = parse_note(f"---\n{line}\n---\n# T\n")
    assert getattr(note, field) == getattr(Note(title="T"), field)


def test_text_before_the_first_heading_that_formats_to_nothing_round_trips() -> None:
    # An unused reference definition became an empty section, which is not rendered.
    note = parse_note("# T\n[x]: http://a.b\n")
    assert note.extra_sections == ()
    assert Note.from_markdown(note.to_markdown()) == note


def test_a_second_connections_section_round_trips() -> None:
    # The first "## connections" was read as the note's; render_note writes ours last.
    note = parse_note("# T\n\n## connections\n\n- [[b|c]]\n\n## connections\n\n- [[a]]\n")
    assert note.connections == ("a",)
    assert note.extra_sections == (("connections", "- [[b|c]]"),)
    assert Note.from_markdown(note.to_markdown()) == note


def test_a_capture_whose_file_name_is_blank_gets_a_title() -> None:
    # The slug " " made an empty title: ValueError from Note.
    note = parse_capture("RSS Feed: Site", file_name=" .txt")
    assert note.title


@pytest.mark.parametrize("header", ["Source", "Link"])
def test_a_header_url_with_spaces_is_percent_encoded(header: str) -> None:
    # is_web_url accepts "http:// !"; the Source made from it refused the space: ValueError.
    note = parse_capture(f"{header}: http://a.example/x y !", file_name="capture.txt")
    assert note.sources[0].url == "http://a.example/x%20y%20!"


@finishes
def test_a_run_of_spaces_in_a_capture_is_parsed_in_linear_time() -> None:
    # The "The post ... appeared first on" pattern began with \s*, tried at every space.
    note = parse_capture("Thought" + " " * 100_000 + "here", file_name="capture.txt")
    assert note.content == "Thought here"


@finishes
def test_a_note_with_thousands_of_sources_is_read_in_linear_time() -> None:
    # Each "## Scraped from" section scanned (and copied) the note's whole token list.
    sections = (
        f"## Scraped from http://x.y/{i}\n\n> - kind: feed\n> - title: t{i}\n\ntext\n\n"
        for i in range(10_000)
    )
    text = "# T\n\n" + "".join(sections)
    note = parse_note(text)
    assert len(note.sources) == 10_000
    assert (note.sources[-1].kind, note.sources[-1].title) == ("feed", "t9999")


@finishes
def test_urls_glued_together_are_one_url_found_in_linear_time() -> None:
    # linkify-it checked every "http:" inside the first URL: 10^4 of them took minutes.
    assert find_urls("http://a.b/" * 3 + " https://c.d") == ["http://a.b/" * 3, "https://c.d"]
    assert find_urls("http://a.b/" * 100_000) == ["http://a.b/" * 100_000]


def test_no_link_in_what_is_a_heading_when_tables_cannot_interrupt_a_paragraph() -> None:
    # With a block that spans blank lines elsewhere (<div>), the linker took its blocks from
    # a reading with GFM tables only; without them, these lines are one setext heading.
    text = "Gradient Descent\n| a | b |\n|---|---|\n| c | d |\n---\n\n<div>\n"
    assert _linker(["Gradient Descent"], [], every=False).link_text(text) == (text, [])


def test_a_mention_refused_for_the_character_before_it_stays_refused_once_linked() -> None:
    # "@" before a mention refuses it; once its neighbour was linked, "]" stood there instead,
    # so a second run linked it: linking was not idempotent.
    linker = _linker(["0"], ["A@"], every=True)
    once, _ = linker.link_text("A@A@")
    assert once == "[[0|A@]]A@"
    assert linker.link_text(once) == (once, [])


@finishes
def test_many_mentions_on_one_line_are_linked_in_linear_time() -> None:
    # Each mention counted the newlines before it and rescanned its paragraph.
    linker = _linker(["word"], [], every=True)
    _, mentions = linker.link_text("x\n" + "word " * 100_000)
    assert len(mentions) == 100_000
    assert (mentions[-1].line, mentions[-1].column) == (2, 5 * 99_999 + 1)


# --- the settings -------------------------------------------------------------------------


def test_every_fuzz_target_runs_the_profile_s_examples() -> None:
    """Every Hypothesis test here is marked ``fuzz`` and keeps the profile's ``max_examples``.

    A target with its own ``@settings(max_examples=...)`` would silently ignore FUZZ_EXAMPLES.
    """
    from . import test_links_properties, test_properties

    assert settings.default is not None
    profile = settings.default.max_examples
    count = 0
    for module in (sys.modules[__name__], test_properties, test_links_properties):
        module_mark = getattr(module, "pytestmark", [])
        module_marks = [
            mark.name for mark in (module_mark if isinstance(module_mark, list) else [module_mark])
        ]
        for name, target in vars(module).items():
            if not (name.startswith("test_") and hasattr(target, "hypothesis")):
                continue
            count += 1
            marks = module_marks + [mark.name for mark in getattr(target, "pytestmark", [])]
            assert "fuzz" in marks, name
            chosen: settings = getattr(
                target, "_hypothesis_internal_use_settings", settings.default
            )
            assert chosen.max_examples == profile, name
    assert count >= 17


# --- hostile text, in bounded time ---------------------------------------------------------

HOSTILE = {
    "backticks": "`" * 100_000,
    "backtick runs": "`a``b" * 10_000,  # mdformat: quadratic in inline nodes (spaced urls)
    "brackets": "[" * 100_000,
    "bracket pairs": "[a](" * 25_000,
    "wikilink openers": "[[" * 50_000,
    "emphasis nesting": "*" * 10_000 + "x" + "*" * 10_000,
    "underscore nesting": "_a " * 10_000,
    "blockquote nesting": ">" * 10_000 + " x",
    "list nesting": "".join(" " * i + "- x\n" for i in range(0, 400, 2)),
    "blank lines": "a\n" + "\n" * 100_000 + "b",
    "angle brackets": "<" * 100_000,
    "unsafe links": "[x](javascript:" * 20_000,
    "autolinks": "http://a.b/" * 20_000,
    "schemes": "http://" * 50_000,
    # mdformat renders a paragraph's inline nodes in quadratic time (each looks up its
    # next sibling with list.index): 10^4 URLs take seconds, 2 x 10^4 some 16 s.
    "spaced urls": "http://a.b/ " * 10_000,
    "entities": "&amp;" * 50_000,
    "hashes": "#" * 100_000,
    "long line": "word " * 100_000,
    "spaces": "a" + " " * 100_000 + "b",
    # each mention needed a parse of the whole paragraph, or a scan of its line's code spans
    # (5 x 10^3 only: mdformat's sibling lookup makes rendering quadratic, see spaced urls)
    "html tags": "<word> x " * 5_000,
    "code and tags": "`word` <x> word " * 5_000,
}


@finishes
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_text_is_rendered_and_read_in_bounded_time(name: str) -> None:
    note = Note(title="Hostile", content=HOSTILE[name])  # normalises the Markdown
    assert Note.from_markdown(note.to_markdown()) == note


@finishes
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_text_is_linked_in_bounded_time(name: str) -> None:
    linker = _linker(["Gradient Descent", "a", "x", "word"], ["b"], every=True)
    linked, _ = linker.link_text(HOSTILE[name])
    assert linker.link_text(linked) == (linked, [])  # and linking again finds nothing new


@finishes
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_capture_is_parsed_in_bounded_time(name: str) -> None:
    with contextlib.suppress(ObsidianInboxError):
        parse_capture(HOSTILE[name], file_name="capture.txt")
