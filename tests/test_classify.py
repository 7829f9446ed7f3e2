"""Tags and categories (pure)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obsidian_inbox import DEFAULT_CATEGORY_RULES, CategoryRule
from obsidian_inbox._classify import _finder, categorize, merge_tags, scraped_tag, tag_key
from obsidian_inbox._tags import is_valid_tag

from . import strategies

SETTINGS = settings()


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("Machine Learning", "machine-learning"),
        ("  Data   Science ", "data-science"),
        ("C++", "cpp"),
        ("C#", "csharp"),
        ("Node.js", "node-js"),
        ("Éclairs & Crème", "éclairs-crème"),
        ("Uncategorized", None),
        ("General", None),
        ("2025", None),
        ("", None),
        ("a phrase far too long to be anybody's tag", None),
        ("One two three four five", None),
    ],
)
def test_scraped_tag(raw: str, tag: str | None) -> None:
    assert scraped_tag(raw) == tag


def test_merge_tags_keeps_the_users_own_tags_first_and_as_written() -> None:
    assert merge_tags(["Reading", "to-read"], ["Machine Learning"]) == (
        "Reading",
        "to-read",
        "machine-learning",
    )


def test_merge_tags_spells_tags_as_the_vault_does() -> None:
    vocabulary = ["MachineLearning", "python", "Data_Science", "dev/tools"]
    assert merge_tags(
        ["Python"], ["Machine Learning", "data science", "Dev/Tools"], vocabulary=vocabulary
    ) == (
        "python",
        "MachineLearning",
        "Data_Science",
        "dev/tools",
    )


def test_merge_tags_deduplicates_and_limits_scraped_tags() -> None:
    scraped = [
        "AI",
        "ai",
        "A.I.",
        "Machine learning",
        "machine-learning",
        *(f"topic {n}" for n in "abcdefgh"),
    ]
    tags = merge_tags(["mine"], scraped, limit=4)
    assert tags == ("mine", "ai", "machine-learning", "topic-a", "topic-b")  # "A.I." is "ai"


@SETTINGS
@given(
    own=st.lists(strategies.one_line_text, max_size=5),
    scraped=st.lists(strategies.one_line_text, max_size=10),
    vocabulary=st.lists(strategies.one_line_text, max_size=5),
)
def test_merged_tags_are_valid_and_unique(
    own: list[str], scraped: list[str], vocabulary: list[str]
) -> None:
    valid_vocabulary = [t for t in vocabulary if is_valid_tag(t)]
    tags = merge_tags(own, scraped, vocabulary=valid_vocabulary, limit=5)
    assert all(is_valid_tag(tag) for tag in tags)
    assert len({tag_key(tag) for tag in tags}) == len(tags)
    assert len(tags) <= len(own) + 5


def test_the_seed_capture_is_development() -> None:
    tags = merge_tags(["machine learning", "programming"], ["Machine Learning", "Career Advice"])
    assert (
        categorize(
            tags=tags,
            title="How to Become a Machine Learning Engineer (Step-by-Step)",
            text="Your one-stop guide to becoming a machine learning engineer",
        )
        == "development"
    )


@pytest.mark.parametrize(
    ("title", "tags", "category"),
    [
        ("Sourdough starters for beginners", [], "cooking"),
        ("", ["personal-finance"], "finance"),
        ("A Gentle Introduction to Quantum Mechanics", [], "science"),
        ("My Obsidian and Zettelkasten workflow", [], "productivity"),
        ("Call the landlord about the radiator", [], ""),
    ],
)
def test_default_rules(title: str, tags: list[str], category: str) -> None:
    assert categorize(tags=tags, title=title) == category


def test_a_weak_match_gives_no_category() -> None:
    # One keyword in the body text alone is not enough.
    assert categorize(title="Notes from the weekend", text="We talked about python briefly.") == ""


def test_custom_rules_as_plain_data() -> None:
    rules = [
        CategoryRule(category="reading", tags=["books"], keywords=["novel", "book review"]),
        CategoryRule(category="work", keywords=["meeting"]),
    ]
    assert categorize(title="A book review: the new novel", rules=rules) == "reading"
    assert categorize(tags=["Books"], rules=rules) == "reading"
    assert categorize(title="Meeting notes", rules=rules) == "work"
    assert categorize(title="Machine learning", rules=rules) == ""


def test_the_first_rule_wins_a_tie() -> None:
    rules = [CategoryRule(category="a", keywords=["x"]), CategoryRule(category="b", keywords=["x"])]
    assert categorize(title="x", rules=rules) == "a"


def test_nested_tags_match_their_parts() -> None:
    rules = [CategoryRule(category="development", tags=["python"])]
    assert categorize(tags=["lang/python"], rules=rules) == "development"


def test_a_rule_needs_a_category() -> None:
    with pytest.raises(ValueError, match="needs a category"):
        CategoryRule(category="  ")


def test_rules_are_normalised() -> None:
    rule = CategoryRule(category=" Deep  Work ", tags=("focus",), keywords=["  flow   state "])
    assert rule.category == "Deep Work"
    assert rule.keywords == ("flow state",)


def test_default_rules_cover_the_usual_categories() -> None:
    categories = [rule.category for rule in DEFAULT_CATEGORY_RULES]
    assert categories[0] == "development"
    assert len(set(categories)) == len(categories)


# --- keyword matching: one pass for every rule, as each rule's own search would ------------


def _regex_keywords(keywords: tuple[str, ...], text: str) -> set[str]:
    """What one regular expression per rule finds: the reference the one-pass finder keeps to."""
    alternatives = sorted(
        (r"[\s\-]+".join(re.escape(word) for word in keyword.split()) for keyword in keywords),
        key=len,
        reverse=True,
    )
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)
    return {" ".join(re.split(r"[\s\-]+", m.casefold())) for m in pattern.findall(text)}


_KEYWORD_WORDS = sorted(
    {
        word
        for rule in DEFAULT_CATEGORY_RULES
        for keyword in rule.keywords
        for word in keyword.split()
    }
)
_texts = st.lists(
    st.one_of(
        st.sampled_from(_KEYWORD_WORDS).map(str.upper) | st.sampled_from(_KEYWORD_WORDS),
        st.sampled_from(["the", "a", "of", "ing", "s", "x", "2025", "_"]),
        st.sampled_from([" ", "  ", "-", " - ", "\n", ", ", ".", "(", ")", "/", "+", "'"]),
    ),
    max_size=40,
).map("".join)


@SETTINGS
@given(text=_texts)
def test_the_one_pass_finder_finds_what_each_rules_regex_finds(text: str) -> None:
    keyword_lists = tuple(rule.keywords for rule in DEFAULT_CATEGORY_RULES)
    found = _finder(keyword_lists).find(text)
    assert found == [_regex_keywords(keywords, text) for keywords in keyword_lists]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Software engineering at scale", {"software engineering"}),  # not also "software"
        ("a software engineer's day", {"software engineer"}),
        ("software engineers", {"software"}),  # whole words only
        ("MACHINE-LEARNING and deep\nlearning", {"machine learning", "deep learning"}),
        ("C++ and c++, not c+++", {"c++"}),
        ("pythonic code", set()),
        ("", set()),
    ],
)
def test_keywords_are_whole_words_leftmost_and_longest(text: str, found: set[str]) -> None:
    (development, *_) = DEFAULT_CATEGORY_RULES
    assert _finder((development.keywords,)).find(text) == [found]
