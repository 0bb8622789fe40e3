"""The sandbox's HTML pages: issues readable by people, hostile text kept inert."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import httpx2
from hypothesis import given, settings
from hypothesis import strategies as st

from sentineliq.sandbox.jira.browse import render_adf

Create = Callable[..., httpx2.Response]


def adf(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(blocks)}


def text(value: str, *marks: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if marks:
        node["marks"] = list(marks)
    return node


def para(*inline: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(inline)}


class _Tags(HTMLParser):
    """Collects the tags and attributes a browser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


HOSTILE = '<script>alert("x")</script>'


def test_issue_page_escapes_hostile_text(create: Create, anon: httpx2.Client) -> None:
    description = adf(
        para(text(HOSTILE)),
        para(text("click me", {"type": "link", "attrs": {"href": "javascript:alert(1)"}})),
        para(
            text("safe link", {"type": "link", "attrs": {"href": "https://example.com/a?b=1&c=2"}})
        ),
        {"type": "codeBlock", "content": [text("</code></pre><img src=x onerror=alert(1)>")]},
        para(text("colour", {"type": "textColor", "attrs": {"color": "#ff0000"}})),
    )
    key = create(
        summary=f"Phish {HOSTILE}",
        labels=["<img/src=x/onerror=alert(1)>"],
        description=description,
        customfield_10051='"><script>alert(2)</script>',
    ).json()["key"]

    page = anon.get(f"/browse/{key}")  # pages need no credentials
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    html = page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    seen = tags(html)
    assert not [t for t, _ in seen if t in ("script", "img", "iframe")]
    assert all(not name.startswith("on") for _, attrs in seen for name in attrs)
    hrefs = [attrs.get("href") for t, attrs in seen if t == "a"]
    assert "https://example.com/a?b=1&c=2" in hrefs
    assert not [h for h in hrefs if h and "javascript" in h.lower()]
    assert "javascript:" not in html
    assert f"<title>[{key}] Phish &lt;script&gt;" in html


def test_issue_page_shows_the_fields(create: Create, anon: httpx2.Client) -> None:
    key = create(
        labels=["alertfp-1"],
        priority={"name": "Highest"},
        duedate="2026-12-24",
        customfield_10050=91,
        customfield_10052=adf(para(text("analyst says hi"))),
    ).json()["key"]
    html = anon.get(f"/browse/{key}").text
    for fragment in (
        "Suspicious login from a new country",
        "Security Operations",
        "Highest",
        "alertfp-1",
        "2026-12-24",
        "Threat score",
        "91",
        "Analyst notes",
        "analyst says hi",
        "To Do",
    ):
        assert fragment in html


def test_line_breaks_inside_text_show_like_jira(create: Create, anon: httpx2.Client) -> None:
    # Jira's renderer styles text `white-space: pre-wrap`: a blank line inside a text node shows
    # as a paragraph break (the renderer merges long prose this way to fit the size limit).
    key = create(description=adf(para(text("first paragraph\n\nsecond paragraph")))).json()["key"]
    html = anon.get(f"/browse/{key}").text
    assert "<p>first paragraph\n\nsecond paragraph</p>" in html
    assert re.search(r"\.adf p\{[^}]*white-space:pre-wrap", html)


def test_issue_list_links_every_issue(create: Create, anon: httpx2.Client) -> None:
    assert "No issues yet." in anon.get("/browse").text
    create(summary=f"First {HOSTILE}")
    create(summary="Second")
    for path in ("/", "/browse"):
        html = anon.get(path).text
        links = [attrs["href"] for t, attrs in tags(html) if t == "a"]
        assert "/browse/SEC-1" in links
        assert "/browse/SEC-2" in links
        assert "<script>" not in html


def test_unknown_issue_page_is_a_404(anon: httpx2.Client) -> None:
    page = anon.get("/browse/SEC-404")
    assert page.status_code == 404
    assert "Issue not found" in page.text


def test_adf_renders_to_semantic_html() -> None:
    doc = adf(
        {"type": "heading", "attrs": {"level": 3}, "content": [text("Title")]},
        para(
            text("b", {"type": "strong"}),
            text("i", {"type": "em"}),
            text("c", {"type": "code"}),
            text("s", {"type": "strike"}),
            {"type": "hardBreak"},
            text("u", {"type": "underline"}),
        ),
        {
            "type": "bulletList",
            "content": [{"type": "listItem", "content": [para(text("one"))]}],
        },
        {
            "type": "orderedList",
            "attrs": {"order": 3},
            "content": [{"type": "listItem", "content": [para(text("three"))]}],
        },
        {"type": "codeBlock", "attrs": {"language": "json"}, "content": [text('{"a": 1}')]},
        {"type": "panel", "attrs": {"panelType": "warning"}, "content": [para(text("careful"))]},
        {"type": "rule"},
        {"type": "blockquote", "content": [para(text("quoted"))]},
        {
            "type": "table",
            "content": [
                {
                    "type": "tableRow",
                    "content": [
                        {"type": "tableHeader", "content": [para(text("Key"))]},
                        {
                            "type": "tableCell",
                            "attrs": {"colspan": 2},
                            "content": [para(text("Value"))],
                        },
                    ],
                }
            ],
        },
        {"type": "expand", "attrs": {"title": "More"}, "content": [para(text("hidden"))]},
    )
    html = render_adf(doc)
    for fragment in (
        "<h3>Title</h3>",
        "<strong>b</strong>",
        "<em>i</em>",
        "<code>c</code>",
        "<s>s</s>",
        "<br>",
        "<u>u</u>",
        "<ul><li><p>one</p></li></ul>",
        '<ol start="3"><li><p>three</p></li></ol>',
        '<pre><code class="language-json">{&quot;a&quot;: 1}</code></pre>',
        '<div class="panel panel-warning">',
        "careful",
        "<hr>",
        "<blockquote><p>quoted</p></blockquote>",
        "<th><p>Key</p></th>",
        '<td colspan="2"><p>Value</p></td>',
        "<details open><summary>More</summary><p>hidden</p></details>",
    ):
        assert fragment in html, fragment


_ANY_TEXT = st.text(min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(body=_ANY_TEXT, href=_ANY_TEXT, language=_ANY_TEXT, title=_ANY_TEXT, color=_ANY_TEXT)
def test_rendered_adf_never_lets_markup_through(
    body: str, href: str, language: str, title: str, color: str
) -> None:
    doc = adf(
        para(
            text(body, {"type": "link", "attrs": {"href": href}}),
            text(body, {"type": "textColor", "attrs": {"color": color}}),
        ),
        {"type": "codeBlock", "attrs": {"language": language}, "content": [text(body)]},
        {"type": "expand", "attrs": {"title": title}, "content": [para(text(body))]},
    )
    html = render_adf(doc)
    allowed = {"p", "a", "span", "pre", "code", "details", "summary"}
    seen = tags(html)
    assert {t for t, _ in seen} <= allowed
    for tag, attrs in seen:
        assert set(attrs) <= {"href", "rel", "style", "class", "open"}, (tag, attrs)
        if "href" in attrs:
            assert re.match(r"(?i)\s*(https?|mailto):", attrs["href"] or "")
        if "style" in attrs:
            assert re.fullmatch(r"color:#[0-9a-fA-F]{6}", attrs["style"] or "")
