"""Summaries: the offline default and the LLM summarizer against a fake OpenAI-compatible server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from obsidian_inbox import DefaultSummarizer, LLMSummarizer, Note, Source, Summary
from obsidian_inbox._extract import plain_text

ARTICLE = (
    "Machine learning engineers sit where software engineering meets statistics. "
    "The path into the role is less mysterious than it looks. "
    "This guide lays out the order in which to learn things.\n\n"
    "### Maths\n\nYou need linear algebra, calculus and probability to get going with it."
)


def note(**fields: Any) -> Note:
    defaults: dict[str, Any] = {
        "title": "How to Become a Machine Learning Engineer",
        "sources": [Source(url="https://example.org/ml", kind="article", text=ARTICLE, site="TDS")],
    }
    return Note(**{**defaults, **fields})


# --- the default ---------------------------------------------------------------------


def test_the_authors_description_comes_first() -> None:
    summary = DefaultSummarizer()(
        note(), description="Your one-stop guide to becoming a machine learning engineer"
    )
    assert summary == Summary(
        text="Your one-stop guide to becoming a machine learning engineer", method="description"
    )


def test_feed_boilerplate_is_removed() -> None:
    description = "A practical guide to the role. The post How to Become appeared first on Towards Data Science."
    assert (
        DefaultSummarizer()(note(), description=description).text
        == "A practical guide to the role."
    )


def test_a_description_that_repeats_the_title_is_skipped() -> None:
    summary = DefaultSummarizer()(note(), description="How to become a machine learning engineer!")
    assert summary.method == "lead"


def test_else_the_lead_of_the_text_cut_at_a_sentence() -> None:
    summary = DefaultSummarizer(limit=140)(note())
    assert summary.method == "lead"
    assert summary.text == (
        "Machine learning engineers sit where software engineering meets statistics. "
        "The path into the role is less mysterious than it looks."
    )


def test_the_captures_own_summary_is_used_before_the_lead() -> None:
    summary = DefaultSummarizer()(note(summary="What the RSS description said about this article."))
    assert summary.method == "description"
    assert summary.text == "What the RSS description said about this article."


def test_several_pages_are_listed() -> None:
    sources = [
        Source(url="https://a.example/x", kind="article", title="First *Article*"),
        Source(url="https://b.example/y", kind="article", title="Second"),
        Source(url="https://c.example/z", kind="article"),
    ]
    summary = DefaultSummarizer()(note(title="Reading list", sources=sources))
    assert summary.method == "links"
    assert plain_text(summary.text) == "Links to First *Article*, Second and https://c.example/z."


def test_nothing_to_summarise_keeps_the_capture() -> None:
    summary = DefaultSummarizer()(note(sources=[], summary="", content="Buy coffee filters."))
    assert summary == Summary(text="", method="capture")


def test_markdown_characters_in_descriptions_read_back_literally() -> None:
    text = "Use *args and __init__ in C++ [sic] like <this> # not a heading"
    summary = DefaultSummarizer()(note(), description=text)
    assert plain_text(Note(title="t", summary=summary.text).summary) == text


# --- the LLM summarizer --------------------------------------------------------------


def chat_reply(content: object, status: int = 200) -> Response:
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def llm(httpserver: HTTPServer) -> Iterator[tuple[LLMSummarizer, HTTPServer]]:
    summarizer = LLMSummarizer(httpserver.url_for("/v1"), "tiny-model", api_key="secret", timeout=5)
    yield summarizer, httpserver
    summarizer.close()


def answer(httpserver: HTTPServer, content: object, status: int = 200) -> None:
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_response(
        chat_reply(json.dumps(content) if not isinstance(content, str) else content, status)
    )


def test_llm_summary_is_validated_and_used(llm: tuple[LLMSummarizer, HTTPServer]) -> None:
    summarizer, server = llm
    answer(
        server,
        {
            "summary": "A step-by-step route into machine learning engineering, from maths to MLOps.",
            "category": "Development",
            "tags": ["Machine Learning", "careers", "python", "ml!!", "a", "b", "c", "d"],
        },
    )
    summary = summarizer(
        note(),
        description="Guide",
        vocabulary=["MachineLearning", "Python"],
        categories=["development", "science"],
    )
    assert summary.method == "llm"
    assert summary.fallback_reason == ""
    assert (
        summary.text
        == "A step-by-step route into machine learning engineering, from maths to MLOps."
    )
    assert summary.category == "development"
    assert summary.tags == ("MachineLearning", "careers", "Python", "ml", "a")

    request = server.log[-1][0]
    assert request.headers["Authorization"] == "Bearer secret"
    sent = request.get_json()
    assert sent["model"] == "tiny-model"
    assert sent["response_format"] == {"type": "json_object"}
    assert "development, science" in sent["messages"][0]["content"]
    assert "MachineLearning" in sent["messages"][0]["content"]
    assert "Title: How to Become a Machine Learning Engineer" in sent["messages"][1]["content"]
    assert "linear algebra, calculus" in sent["messages"][1]["content"]


def test_llm_answer_in_a_code_fence(llm: tuple[LLMSummarizer, HTTPServer]) -> None:
    summarizer, server = llm
    answer(server, '```json\n{"summary": "A short and sweet summary of it.", "tags": []}\n```')
    assert summarizer(note()).text == "A short and sweet summary of it."


def test_llm_category_outside_the_known_ones_is_dropped(
    llm: tuple[LLMSummarizer, HTTPServer],
) -> None:
    summarizer, server = llm
    answer(server, {"summary": "A short and sweet summary of it.", "category": "Astrology"})
    assert summarizer(note(), categories=["development"]).category == ""


def test_a_long_llm_summary_is_cut_at_a_sentence(llm: tuple[LLMSummarizer, HTTPServer]) -> None:
    summarizer, server = llm
    answer(server, {"summary": "This sentence is about the topic. " * 40})
    text = summarizer(note()).text
    assert len(text) <= 400
    assert text.endswith("topic.")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("not json at all", "not the JSON asked for"),
        (json.dumps(["a", "list"]), "not a JSON object"),
        (json.dumps({"category": "development"}), "has no summary"),
        (
            json.dumps({"summary": "<two or three plain sentences, at most 400 characters>"}),
            "placeholder",
        ),
        (json.dumps({"summary": "{{summary}} goes here for the article"}), "placeholder"),
        (json.dumps({"summary": "[Insert summary here] about the article"}), "placeholder"),
        (
            json.dumps({"summary": "You summarise web articles for a personal knowledge base."}),
            "the prompt",
        ),
        (json.dumps({"summary": "As an AI language model I cannot browse."}), "placeholder"),
    ],
)
def test_bad_llm_answers_fall_back_with_the_reason(
    llm: tuple[LLMSummarizer, HTTPServer], content: str, why: str
) -> None:
    summarizer, server = llm
    answer(server, content)
    summary = summarizer(note(), description="Your one-stop guide to the role of an engineer")
    assert summary.method == "description"
    assert summary.text == "Your one-stop guide to the role of an engineer"
    assert summary.fallback_reason.startswith("LLM summary not used: ")
    assert why in summary.fallback_reason


def test_an_llm_server_error_falls_back(llm: tuple[LLMSummarizer, HTTPServer]) -> None:
    summarizer, server = llm
    server.expect_request("/v1/chat/completions").respond_with_data("model not loaded", status=500)
    summary = summarizer(note())
    assert summary.method == "lead"
    assert "500 Internal Server Error from http://" in summary.fallback_reason


def test_an_unreachable_llm_falls_back() -> None:
    with LLMSummarizer("http://127.0.0.1:9/v1", "m", timeout=2) as summarizer:
        summary = summarizer(note())
    assert summary.method == "lead"
    assert "cannot reach http://127.0.0.1:9/v1/chat/completions" in summary.fallback_reason


def test_a_placeholder_never_reaches_the_note(llm: tuple[LLMSummarizer, HTTPServer]) -> None:
    summarizer, server = llm
    answer(
        server,
        {"summary": "Summary: <summary of the article in two sentences>", "tags": ["{{tag}}"]},
    )
    summary = summarizer(note())
    assert "<" not in summary.text
    assert "{{" not in summary.text
    assert summary.tags == ()
