"""Tags and category for a note (pure).

Tags come from the capture's ``#hashtags`` (kept as written), the feed item's categories
and the page's keywords (made lower-case kebab: ``"Machine Learning"`` →
``machine-learning``). All are made valid Obsidian tags, de-duplicated, and spelled as the
vault already spells them (``MachineLearning`` stays ``MachineLearning`` if the vault has
it).

The category comes from :class:`CategoryRule` s: plain data (a category, the tags and the
keywords that point to it) that a configuration file can supply;
:data:`DEFAULT_CATEGORY_RULES` are the defaults.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

import ahocorasick
import attrs

from ._tags import clean_tag

__all__ = [
    "DEFAULT_CATEGORY_RULES",
    "CategoryRule",
    "TagRule",
    "categorize",
    "host_matches",
    "merge_tags",
    "rule_tags",
    "scraped_tag",
    "tag_key",
]

#: Categories sites put everything in: they say nothing about a page.
_MEANINGLESS = frozenset(
    {
        "uncategorized",
        "uncategorised",
        "general",
        "misc",
        "miscellaneous",
        "other",
        "others",
        "blog",
        "blogs",
        "post",
        "posts",
        "featured",
        "article",
        "articles",
        "home",
        "latest",
        "top",
        "all",
        "default",
        "none",
    }
)
_MAX_TAG_CHARS = 40
_MAX_TAG_WORDS = 4


_TAG_SEPARATORS = re.compile(r"[\s_\-]+")


@functools.lru_cache(maxsize=4096)
def tag_key(tag: str) -> str:
    """Return the form tags are compared in: case, ``-``, ``_`` and spaces ignored.

    >>> tag_key("Machine_Learning") == tag_key("machine-learning") == tag_key("MachineLearning")
    True
    """
    return _TAG_SEPARATORS.sub("", tag.casefold())


@functools.lru_cache(maxsize=256)
def _tag_keys(tags: tuple[str, ...]) -> frozenset[str]:
    return frozenset(tag_key(tag) for tag in tags)


def scraped_tag(raw: str) -> str | None:
    """Return a category or keyword from a feed or page as a lower-case kebab tag, or None.

    Categories sites give everything ("Uncategorized") and phrases too long to be tags
    are dropped.

    >>> scraped_tag("Machine Learning")
    'machine-learning'
    >>> scraped_tag("C++") , scraped_tag("Uncategorized")
    ('cpp', None)
    """
    text = " ".join(raw.split())
    if not text or len(text) > _MAX_TAG_CHARS or len(text.split()) > _MAX_TAG_WORDS:
        return None
    if text.casefold() in _MEANINGLESS:
        return None
    tag = clean_tag(text.lower())
    return tag.strip("-") if tag else None


def merge_tags(
    own: Iterable[str],
    scraped: Iterable[str],
    *,
    vocabulary: Iterable[str] = (),
    limit: int = 10,
) -> tuple[str, ...]:
    """Return the note's tags: its own, then scraped ones, spelled as the vault spells them.

    Args:
        own: Tags the user wrote (the capture's ``#hashtags``, its frontmatter): kept
            as written, always kept.
        scraped: Feed categories and page keywords: made lower-case kebab; at most
            ``limit`` tags in all.
        vocabulary: The tag spellings the vault uses; a tag the vault has (compared by
            :func:`tag_key`) takes the vault's spelling.
        limit: The most tags a note gets from scraping.

    >>> merge_tags(["reading"], ["Machine Learning", "Python", "python"], vocabulary=["Python"])
    ('reading', 'machine-learning', 'Python')
    """
    spelling: dict[str, str] = {}
    for tag in vocabulary:
        spelling.setdefault(tag_key(tag), tag)
    result: list[str] = []
    seen: set[str] = set()

    def add(tag: str | None) -> None:
        if tag is None:
            return
        key = tag_key(tag)
        if key and key not in seen:
            seen.add(key)
            result.append(spelling.get(key, tag))

    for tag in own:
        add(clean_tag(tag))
    budget = len(result) + limit
    for raw in scraped:
        if len(result) >= budget:
            break
        add(scraped_tag(raw))
    return tuple(result)


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _words(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(" ".join(str(v).split()) for v in values if str(v).strip())


def _hosts(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(v.strip().lower().removeprefix("www.") for v in values if str(v).strip())


def host_matches(host: str, sites: Iterable[str]) -> bool:
    """Tell whether ``host`` is one of ``sites`` or a subdomain of one.

    >>> host_matches("blog.github.com", ["github.com"]), host_matches("notgithub.com", ["github.com"])
    (True, False)
    """
    host = host.lower().removeprefix("www.")
    return any(host == site or host.endswith("." + site) for site in sites)


@attrs.frozen(kw_only=True)
class CategoryRule:
    """A rule giving a note a category when its tags, words or sites match.

    A tag counts 3 (compared without case, spaces, ``-`` or ``_``, so ``machine-learning`` matches the
    rule tag ``Machine Learning``, and ``dev/python`` matches ``python``), a site the
    note comes from 3 (``github.com`` matches ``gist.github.com`` too), a keyword in the
    title 2, a keyword elsewhere (summary, text) 1. The rule with the highest score of at
    least 2 wins; the first listed wins a tie.

    Attributes:
        category: The category it gives, e.g. ``"development"``.
        tags: Tags that point to it.
        keywords: Words or phrases that point to it (whole words, any case).
        sites: Host names whose pages belong to it.
    """

    category: str = attrs.field(converter=_one_line)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_words)
    keywords: tuple[str, ...] = attrs.field(default=(), converter=_words)
    sites: tuple[str, ...] = attrs.field(default=(), converter=_hosts)

    @category.validator
    def _check(self, attribute: attrs.Attribute[str], value: str) -> None:
        if not value:
            raise ValueError("a category rule needs a category")

    def score(self, tags: Iterable[str], title: str, text: str, hosts: Iterable[str] = ()) -> int:
        """Return how strongly a note with these tags, title, text and hosts matches this rule."""
        finder = _finder((self.keywords,))
        keys = [_tag_parts(tag) for tag in tags]
        return self._score(keys, hosts, finder.find(title)[0], finder.find(text)[0])

    def _score(
        self,
        tag_parts: list[frozenset[str]],
        hosts: Iterable[str],
        in_title: set[str],
        in_text: set[str],
    ) -> int:
        score = 3 * sum(1 for host in hosts if host_matches(host, self.sites)) if self.sites else 0
        if tag_parts:
            wanted = _tag_keys(self.tags)
            score += 3 * sum(1 for parts in tag_parts if not wanted.isdisjoint(parts))
        return score + 2 * len(in_title) + len(in_text - in_title)


def _tag_parts(tag: str) -> frozenset[str]:
    """The keys a tag matches a rule's tags by: its own, and each nesting level's."""
    return frozenset({tag_key(tag), *(tag_key(part) for part in tag.split("/"))})


_SEPARATORS = re.compile(r"[\s\-]+")


def _normal(text: str) -> str:
    """``text`` as keywords are looked for in it: case-folded, each run of spaces and
    hyphens one space (so ``machine learning`` is found in ``Machine-Learning``)."""
    return _SEPARATORS.sub(" ", text.casefold())


def _is_word(char: str) -> bool:
    """Tell whether ``char`` is a word character (``\\w``)."""
    return char.isalnum() or char == "_"


class _KeywordFinder:
    """Finds the keywords of several rules in a text in one pass (Aho-Corasick).

    Each rule's keywords are found as one search for any of them would: whole words,
    any case, leftmost first, the longest at a place, and not overlapping each other
    (``software engineering`` is that keyword, not also ``software``); the keywords of
    different rules may overlap. Ten rules' regular expressions took ten passes, a
    tenth of a millisecond per note.
    """

    def __init__(self, keyword_lists: tuple[tuple[str, ...], ...]) -> None:
        self.rules = len(keyword_lists)
        owners: dict[str, list[int]] = {}  # a normal keyword -> the rules that have it
        for rule, keywords in enumerate(keyword_lists):
            for keyword in keywords:
                key = _normal(keyword).strip()
                if key and rule not in owners.setdefault(key, []):
                    owners[key].append(rule)
        self.automaton: ahocorasick.Automaton | None = None
        if owners:
            self.automaton = ahocorasick.Automaton()
            for key, rules in owners.items():
                self.automaton.add_word(key, (len(key), tuple(rules)))
            self.automaton.make_automaton()

    def find(self, text: str) -> list[set[str]]:
        """Return, for each rule, the keywords found in ``text`` (in their normal form)."""
        found: list[set[str]] = [set() for _ in range(self.rules)]
        if self.automaton is None or not text:
            return found
        normal = _normal(text)
        size = len(normal)
        matches: list[tuple[int, int, int, int]] = []  # (rule, start, -length, end)
        for last, (length, rules) in self.automaton.iter(normal):
            start, end = last - length + 1, last + 1
            if (start and _is_word(normal[start - 1])) or (end < size and _is_word(normal[end])):
                continue
            matches += [(rule, start, -length, end) for rule in rules]
        reached = [0] * self.rules  # where each rule's last keyword ended
        for rule, start, _, end in sorted(matches):
            if start >= reached[rule]:
                found[rule].add(normal[start:end])
                reached[rule] = end
        return found


@functools.lru_cache(maxsize=256)
def _finder(keyword_lists: tuple[tuple[str, ...], ...]) -> _KeywordFinder:
    return _KeywordFinder(keyword_lists)


def _rule(category: str, words: str, *, tags: str = "") -> CategoryRule:
    keywords = [w.strip() for w in words.split(",") if w.strip()]
    return CategoryRule(
        category=category,
        tags=[*keywords, *(t.strip() for t in tags.split(",") if t.strip())],
        keywords=keywords,
    )


#: The category rules used when the vault's configuration gives none.
DEFAULT_CATEGORY_RULES: tuple[CategoryRule, ...] = (
    _rule(
        "development",
        "programming, software, software engineering, software engineer, developer, coding, "
        "code review, python, javascript, typescript, rust, golang, java, kotlin, swift, c++, "
        "web development, frontend, backend, devops, api, apis, database, databases, sql, git, "
        "open source, kubernetes, docker, cloud, serverless, testing, debugging, algorithms, "
        "machine learning, deep learning, data science, data engineering, data engineer, "
        "artificial intelligence, llm, llms, ai engineering, ml engineer, neural networks, "
        "mlops, feature flags, microservices, linux, compiler, refactoring",
        tags="dev, ml, ai, data, tech, engineering",
    ),
    _rule(
        "science",
        "science, physics, biology, chemistry, astronomy, space, climate, research, "
        "mathematics, maths, math, neuroscience, quantum, evolution, genetics, statistics",
    ),
    _rule(
        "productivity",
        "productivity, note-taking, note taking, obsidian, zettelkasten, pkm, habits, "
        "time management, focus, getting things done, gtd, workflow, second brain",
    ),
    _rule(
        "business",
        "business, startup, startups, marketing, economics, management, leadership, "
        "entrepreneurship, strategy, product management, sales, career",
    ),
    _rule(
        "finance",
        "personal finance, finance, investing, investment, budget, budgeting, money, "
        "stocks, savings, retirement, taxes",
    ),
    _rule(
        "health",
        "health, fitness, nutrition, sleep, mental health, running, exercise, meditation, "
        "wellbeing, medicine",
    ),
    _rule(
        "cooking",
        "cooking, recipe, recipes, baking, food, sourdough, coffee, kitchen, home cooking",
    ),
    _rule(
        "design",
        "design, ux, ui, user experience, typography, accessibility, dark mode, "
        "graphic design, illustration",
    ),
    _rule(
        "writing",
        "writing, technical writing, blogging, storytelling, essay, essays, editing, books",
    ),
    _rule(
        "hobbies",
        "photography, film photography, gardening, music, gaming, cycling, hiking, travel, "
        "woodworking, knitting, chess",
    ),
)


def categorize(
    *,
    tags: Iterable[str] = (),
    title: str = "",
    text: str = "",
    hosts: Iterable[str] = (),
    rules: Sequence[CategoryRule] = DEFAULT_CATEGORY_RULES,
) -> str:
    """Return the category the rules give a note, or ``""`` when none matches well enough.

    >>> categorize(tags=["programming"], title="How to Become a Machine Learning Engineer")
    'development'
    >>> categorize(title="Call the landlord about the radiator")
    ''
    """
    tag_parts = [_tag_parts(tag) for tag in tags]
    hosts = list(hosts)
    finder = _finder(tuple(rule.keywords for rule in rules))
    in_title, in_text = finder.find(title), finder.find(text)
    best, best_score = "", 1
    for number, rule in enumerate(rules):
        score = rule._score(tag_parts, hosts, in_title[number], in_text[number])
        if score > best_score:
            best, best_score = rule.category, score
    return best


@attrs.frozen(kw_only=True)
class TagRule:
    """A rule adding a tag when a note's words or sites match (from the ``[tags]`` table).

    Attributes:
        tag: The tag it adds, spelled as given.
        keywords: Words or phrases that call for it (whole words, any case, anywhere in the
            title, summary or text).
        sites: Host names whose pages get it (subdomains too).
    """

    tag: str = attrs.field(converter=_one_line)
    keywords: tuple[str, ...] = attrs.field(default=(), converter=_words)
    sites: tuple[str, ...] = attrs.field(default=(), converter=_hosts)

    def matches(self, text: str, hosts: Iterable[str] = ()) -> bool:
        """Tell whether a note with this text, from these hosts, gets the tag."""
        if any(host_matches(host, self.sites) for host in hosts):
            return True
        return bool(self.keywords) and bool(_finder((self.keywords,)).find(text)[0])


def rule_tags(rules: Iterable[TagRule], *, text: str, hosts: Iterable[str] = ()) -> list[str]:
    """Return the tags of the rules that match.

    >>> rule_tags([TagRule(tag="python", keywords=["pip", "python"])], text="Pinning pip versions")
    ['python']
    """
    hosts = list(hosts)
    return [rule.tag for rule in rules if rule.matches(text, hosts)]
