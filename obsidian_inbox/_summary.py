"""Summaries: the :class:`Summarizer` protocol, an offline default and an optional local LLM.

:class:`DefaultSummarizer` is offline and deterministic: the author's own description (the
feed item's summary, ``og:description``) without boilerplate such as "The post … appeared
first on …", else the lead sentences of the main text cut at a sentence boundary.

:class:`LLMSummarizer` asks a local model behind an OpenAI-compatible chat endpoint
(Ollama, llama.cpp's server, LM Studio) for a summary, a category and tags as JSON, and
validates the answer: lengths capped, tags snapped to the vault's spellings, the category
one of the known ones, and anything that looks like a placeholder or the prompt refused.
On any failure it falls back to the default and says why (:attr:`Summary.fallback_reason`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any, Protocol

import attrs
import httpx

from ._classify import scraped_tag, tag_key
from ._extract import clean_description, lead_text, plain_text, title_key, word_count
from ._inbox import lead_sentences
from ._markdown import escape_inline, is_plain_inline, one_line
from ._note import Note

__all__ = ["DefaultSummarizer", "LLMSummarizer", "Summarizer", "Summary"]

logger = logging.getLogger(__name__)

#: The longest summary kept, in characters (cut at a sentence boundary).
MAX_SUMMARY_CHARS = 400


def _as_markdown(text: str) -> str:
    """Plain text → Markdown that reads back as the same text."""
    text = one_line(text)
    return text if is_plain_inline(text) else escape_inline(text)


@attrs.frozen(kw_only=True)
class Summary:
    """What a summarizer made of a note.

    Attributes:
        text: The summary, as Markdown.
        category: A category, when the summarizer proposes one (else the rules decide).
        tags: Tags it proposes, valid and spelled as the vault spells them.
        method: How it was made: ``"description"``, ``"lead"``, ``"links"``,
            ``"capture"`` or ``"llm"``.
        fallback_reason: Why a preferred method (the LLM) was not used, if it was not.
    """

    text: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    method: str = ""
    fallback_reason: str = ""


class Summarizer(Protocol):
    """Anything that summarises an enriched note (its sources filled in)."""

    def __call__(
        self,
        note: Note,
        *,
        description: str = "",
        vocabulary: Sequence[str] = (),
        categories: Sequence[str] = (),
    ) -> Summary:
        """Return a summary of ``note``; never raise.

        Args:
            note: The note, with its sources fetched.
            description: The author's own description of the page (plain text).
            vocabulary: The tag spellings the vault uses.
            categories: The categories a proposal must be one of.
        """
        ...


class DefaultSummarizer:
    """Summarise offline and deterministically: the author's description, else the lead.

    Args:
        limit: The longest summary, in characters.
    """

    def __init__(self, *, limit: int = MAX_SUMMARY_CHARS) -> None:
        self.limit = limit

    def __repr__(self) -> str:
        return f"DefaultSummarizer(limit={self.limit})"

    def __call__(
        self,
        note: Note,
        *,
        description: str = "",
        vocabulary: Sequence[str] = (),
        categories: Sequence[str] = (),
    ) -> Summary:
        """Return the best offline summary of ``note`` (see the class docstring)."""
        pages = [s for s in note.sources if s.kind in {"article", "attachment"}]
        if len(pages) > 1 and not description:
            names = [s.title or s.url for s in pages]
            joined = ", ".join(names[:-1]) + f" and {names[-1]}"
            return Summary(text=_as_markdown(f"Links to {joined}."), method="links")
        title = title_key(note.title)
        for candidate in (description, plain_text(note.summary)):
            text = clean_description(candidate, html=False)
            if word_count(text) >= 5 and title_key(text) != title:
                return Summary(
                    text=_as_markdown(lead_sentences(text, limit=self.limit)), method="description"
                )
        for source in sorted(note.sources, key=lambda s: s.kind != "article"):
            lead = lead_text(source.text, limit=self.limit)
            if lead:
                return Summary(text=_as_markdown(lead), method="lead")
        return Summary(text=note.summary, method="capture")


_PLACEHOLDER = re.compile(
    r"\{\{|\}\}|<[^<>]{0,60}>|\[(?:insert|your|summary|placeholder|todo|tbd)[^\]]*\]"
    r"|lorem ipsum|\bTODO\b|\bTBD\b|as an ai\b|i cannot (?:summari[sz]e|access|help)"
    r"|here is (?:a|the|your) summary|^summary\s*:",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)

_SYSTEM_PROMPT = (
    "You summarise web articles for a personal knowledge base. Answer with a single JSON "
    'object with exactly these keys: "summary" (two or three plain sentences, at most '
    "{limit} characters, in the language of the article, saying what it is about), "
    '"category" (one of: {categories}; or an empty string if none fits) and "tags" (a list '
    "of at most {max_tags} short lower-case topic tags; prefer these existing ones when they "
    "fit: {vocabulary}). No other text."
)


class LLMSummarizer:
    """Summarise with a local LLM behind an OpenAI-compatible chat endpoint; fall back on failure.

    Args:
        base_url: The API's base URL, e.g. ``http://localhost:11434/v1`` (Ollama),
            ``http://localhost:8080/v1`` (llama.cpp), ``http://localhost:1234/v1`` (LM Studio).
        model: The model's name, e.g. ``"llama3.2"``.
        api_key: Sent as a bearer token, when the server wants one.
        timeout: Seconds to wait for an answer.
        fallback: Used when the model fails or answers badly (default: :class:`DefaultSummarizer`).
        max_tags: The most tags kept from an answer.
        limit: The longest summary kept, in characters.
        max_input_chars: How much of the article's text is sent.
        transport: An :class:`httpx.BaseTransport` to send requests through (tests).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        fallback: Summarizer | None = None,
        max_tags: int = 5,
        limit: int = MAX_SUMMARY_CHARS,
        max_input_chars: int = 8000,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.fallback = fallback or DefaultSummarizer(limit=limit)
        self.max_tags = max_tags
        self.limit = limit
        self.max_input_chars = max_input_chars
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def __repr__(self) -> str:
        return f"LLMSummarizer({self.base_url!r}, {self.model!r})"

    def close(self) -> None:
        """Close the connection to the endpoint."""
        self._client.close()

    def __enter__(self) -> LLMSummarizer:  # noqa: PYI034 - Python 3.10 has no typing.Self
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __call__(
        self,
        note: Note,
        *,
        description: str = "",
        vocabulary: Sequence[str] = (),
        categories: Sequence[str] = (),
    ) -> Summary:
        """Return the model's summary of ``note``, or the fallback's with the reason."""
        try:
            answer = self._ask(note, description, vocabulary, categories)
            return self._validate(answer, vocabulary, categories)
        except _BadAnswer as exc:
            reason = f"LLM summary not used: {exc}"
        logger.warning("%s: %s", note.title, reason)
        summary = self.fallback(
            note, description=description, vocabulary=vocabulary, categories=categories
        )
        return attrs.evolve(summary, fallback_reason=reason)

    def _messages(
        self, note: Note, description: str, vocabulary: Sequence[str], categories: Sequence[str]
    ) -> list[dict[str, str]]:
        system = _SYSTEM_PROMPT.format(
            limit=self.limit,
            categories=", ".join(categories) or "(any single word)",
            max_tags=self.max_tags,
            vocabulary=", ".join(list(vocabulary)[:200]) or "(none yet)",
        )
        texts = [plain_text(s.text) for s in note.sources if s.text]
        body = "\n\n".join(texts) or plain_text(note.content)
        sites = {s.site for s in note.sources if s.site}
        head = [f"Title: {note.title}"]
        if sites:
            head.append(f"Site: {', '.join(sorted(sites))}")
        if description:
            head.append(f"Description: {clean_description(description, html=False)}")
        user = "\n".join(head) + "\n\n" + body[: self.max_input_chars]
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def _ask(
        self, note: Note, description: str, vocabulary: Sequence[str], categories: Sequence[str]
    ) -> dict[str, Any]:
        payload = {
            "model": self.model,
            "messages": self._messages(note, description, vocabulary, categories),
            "temperature": 0,
            "stream": False,
            "response_format": {"type": "json_object"},
        }
        url = f"{self.base_url}/chat/completions"
        try:
            response = self._client.post(url, json=payload)
        except httpx.HTTPError as exc:
            raise _BadAnswer(f"cannot reach {url}: {str(exc) or type(exc).__name__}") from exc
        if response.status_code != 200:
            phrase = httpx.codes.get_reason_phrase(response.status_code) or response.reason_phrase
            raise _BadAnswer(f"{response.status_code} {phrase} from {url}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
            answer = json.loads(_FENCE.sub("", str(content).strip()))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _BadAnswer(f"the answer is not the JSON asked for ({exc})") from exc
        if not isinstance(answer, dict):
            raise _BadAnswer("the answer is not a JSON object")
        return answer

    def _validate(
        self, answer: dict[str, Any], vocabulary: Sequence[str], categories: Sequence[str]
    ) -> Summary:
        text = answer.get("summary")
        if not isinstance(text, str) or word_count(text) < 3:
            raise _BadAnswer("the answer has no summary")
        text = one_line(text)
        if _PLACEHOLDER.search(text) or "knowledge base" in text.casefold():
            raise _BadAnswer(f"the summary looks like a placeholder or the prompt: {text[:60]!r}")
        text = lead_sentences(text, limit=self.limit)
        known = {c.casefold(): c for c in categories}
        raw_category = answer.get("category")
        category = ""
        if isinstance(raw_category, str) and raw_category.strip():
            category = known.get(raw_category.strip().casefold(), "") if known else ""
        spelling = {tag_key(tag): tag for tag in vocabulary}
        tags: list[str] = []
        raw_tags = answer.get("tags")
        for raw in raw_tags if isinstance(raw_tags, list) else ():
            if not isinstance(raw, str) or len(tags) >= self.max_tags:
                continue
            tag = spelling.get(tag_key(raw)) or scraped_tag(raw)
            if tag and tag_key(tag) not in {tag_key(t) for t in tags}:
                tags.append(tag)
        return Summary(text=_as_markdown(text), category=category, tags=tuple(tags), method="llm")


class _BadAnswer(Exception):
    """The model could not be asked, or its answer is unusable."""
