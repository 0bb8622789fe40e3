"""Human-readable HTML pages: /browse (the issue list) and /browse/KEY (one issue, with its ADF
description and comments rendered to HTML).

Every piece of issue data is escaped; link targets are kept only for http(s)/mailto URLs and
colours only when they are #rrggbb, so hostile issue text cannot inject markup or script.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

from sentineliq.sandbox.jira.model import Issue, Project, User
from sentineliq.sandbox.jira.seed import FIELDS_BY_ID
from sentineliq.sandbox.jira.state import IssueSnapshot, SandboxState
from sentineliq.sandbox.jira.wire import Request, Response, Route

UserLookup = Callable[[str], User | None]
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_SAFE_SCHEMES = ("http", "https", "mailto")
_PANEL_LABELS = {
    "info": "Info",
    "note": "Note",
    "tip": "Tip",
    "warning": "Warning",
    "error": "Error",
    "success": "Success",
}

_STYLE = """
body{font:14px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#172b4d;
margin:0;background:#f4f5f7}
header{background:#0747a6;color:#fff;padding:10px 24px;font-weight:600}
header a{color:#fff;text-decoration:none}
main{max-width:960px;margin:24px auto;background:#fff;padding:24px 32px;border-radius:4px;
box-shadow:0 1px 2px rgba(9,30,66,.25)}
h1.summary{font-size:24px;margin:4px 0 16px}
.key{color:#5e6c84;font-size:13px}
table.meta{border-collapse:collapse;margin-bottom:24px}
table.meta th{text-align:left;color:#5e6c84;font-weight:500;padding:4px 24px 4px 0;
vertical-align:top}
table.meta td{padding:4px 0}
.label{display:inline-block;background:#dfe1e6;border-radius:3px;padding:0 6px;margin:0 4px 2px 0;
font-size:12px}
.status{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;font-weight:700;
text-transform:uppercase;background:#dfe1e6}
.status-done{background:#e3fcef;color:#006644}
.status-indeterminate{background:#deebff;color:#0747a6}
section{margin-top:24px}
section>h2{font-size:16px;border-bottom:1px solid #dfe1e6;padding-bottom:4px}
.adf pre{background:#f4f5f7;padding:8px 12px;border-radius:3px;overflow-x:auto}
.adf code{background:#f4f5f7;padding:0 3px;border-radius:3px;font-size:13px}
.adf pre code{padding:0;background:none}
.adf blockquote{border-left:2px solid #dfe1e6;margin:0;padding-left:16px;color:#42526e}
.adf table{border-collapse:collapse;margin:8px 0}
.adf th,.adf td{border:1px solid #dfe1e6;padding:4px 8px;vertical-align:top}
.adf th{background:#f4f5f7;text-align:left}
.adf li>p,.adf td>p,.adf th>p{margin:2px 0}
.adf p{white-space:pre-wrap;overflow-wrap:break-word}
main>h1:first-child{margin-top:0}
.panel{border-radius:3px;padding:8px 12px;margin:8px 0;background:#deebff}
.panel-note{background:#eae6ff}.panel-tip,.panel-success{background:#e3fcef}
.panel-warning{background:#fffae6}.panel-error{background:#ffebe6}
.panel-label{font-weight:700;font-size:12px;text-transform:uppercase;color:#42526e}
.lozenge{border-radius:3px;padding:0 4px;font-size:11px;font-weight:700;text-transform:uppercase;
background:#dfe1e6}
.comment{border-top:1px solid #ebecf0;padding:8px 0}
.comment .who{color:#5e6c84;font-size:12px}
table.issues{border-collapse:collapse;width:100%}
table.issues th,table.issues td{text-align:left;padding:6px 8px;border-bottom:1px solid #ebecf0}
.empty{color:#5e6c84}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        '<header><a href="/browse">SentinelIQ Jira sandbox</a></header>'
        f"<main>{body}</main></body></html>\n"
    )


def _when(moment: datetime) -> str:
    return escape(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def _user_name(account_id: Any, users: UserLookup) -> str:
    user = users(account_id) if isinstance(account_id, str) else None
    return escape(user.display_name) if user else '<span class="empty">Unassigned</span>'


def issue_list_page(snapshots: Iterable[IssueSnapshot]) -> str:
    rows = []
    for snap in sorted(snapshots, key=lambda s: int(s.issue.id), reverse=True):
        issue = snap.issue
        key = escape(issue.key)
        rows.append(
            f'<tr><td><a href="/browse/{quote(issue.key)}">{key}</a></td>'
            f"<td>{escape(str(issue.values.get('summary', '')))}</td>"
            f"<td>{_status(issue)}</td><td>{_when(issue.created)}</td></tr>"
        )
    table = (
        '<table class="issues"><thead><tr><th>Key</th><th>Summary</th><th>Status</th>'
        f"<th>Created</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="empty">No issues yet.</p>'
    )
    return _page("Issues - SentinelIQ Jira sandbox", f"<h1>Issues</h1>{table}")


def not_found_page(key: str) -> str:
    return _page(
        "Issue not found",
        f"<h1>Issue not found</h1><p>There is no issue {escape(key)}.</p>"
        '<p><a href="/browse">All issues</a></p>',
    )


def _status(issue: Issue) -> str:
    category = escape(issue.status.category.value)
    return f'<span class="status status-{category}">{escape(issue.status.name)}</span>'


def issue_page(snap: IssueSnapshot, users: UserLookup) -> str:
    issue, project = snap.issue, snap.project
    values = issue.values
    summary = escape(str(values.get("summary", "")))
    rows = [
        ("Project", f"{escape(project.name)} ({escape(project.key)})"),
        ("Type", escape(_issue_type_name(issue, project))),
        ("Status", _status(issue)),
        ("Resolution", escape(issue.resolution or "") or '<span class="empty">Unresolved</span>'),
        ("Priority", escape(_priority_name(issue, project))),
        ("Assignee", _user_name(values.get("assignee"), users)),
        ("Reporter", _user_name(values.get("reporter"), users)),
        (
            "Labels",
            "".join(f'<span class="label">{escape(x)}</span>' for x in values.get("labels", []))
            or '<span class="empty">None</span>',
        ),
        ("Due date", escape(str(values.get("duedate") or "")) or '<span class="empty">None</span>'),
        ("Created", _when(issue.created)),
        ("Updated", _when(issue.updated)),
    ]
    for field_id, value in values.items():
        definition = FIELDS_BY_ID.get(field_id)
        if definition is None or not definition.custom or definition.kind == "adf":
            continue
        rows.append((escape(definition.name), escape(str(value))))
    meta = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)

    sections = [_section("Description", values.get("description"))]
    for field_id, value in values.items():
        definition = FIELDS_BY_ID.get(field_id)
        if definition is not None and definition.custom and definition.kind == "adf":
            sections.append(_section(definition.name, value))
    if issue.attachments:
        sections.append(f"<section><h2>Attachments</h2>{_attachments(issue, users)}</section>")
    if issue.links:
        sections.append(f"<section><h2>Issue links</h2>{_links(snap)}</section>")
    if issue.properties:
        sections.append(f"<section><h2>Issue properties</h2>{_properties(issue)}</section>")
    comments = "".join(
        f'<div class="comment"><div class="who">{_user_name(c.author_id, users)} - '
        f'{_when(c.created)}</div><div class="adf">{render_adf(c.body)}</div></div>'
        for c in issue.comments
    )
    if comments:
        sections.append(f"<section><h2>Comments</h2>{comments}</section>")
    body = (
        f'<div class="key">{escape(project.name)} / {escape(issue.key)}</div>'
        f'<h1 class="summary">{summary}</h1><table class="meta">{meta}</table>{"".join(sections)}'
    )
    return _page(f"[{issue.key}] {values.get('summary', '')}", body)


def _size(size: int) -> str:
    for unit, factor in (("MB", 1 << 20), ("kB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"


def _attachments(issue: Issue, users: UserLookup) -> str:
    """Each attachment with its size, who added it and when, linked to its content."""
    rows = "".join(
        f'<tr><td><a class="attachment" href="/secure/attachment/{quote(a.id)}/'
        f'{quote(a.filename)}">{escape(a.filename)}</a></td>'
        f"<td>{escape(_size(a.size))}</td><td>{escape(a.mime_type)}</td>"
        f"<td>{_user_name(a.author_id, users)}</td><td>{_when(a.created)}</td></tr>"
        for a in issue.attachments
    )
    head = "<tr><th>File</th><th>Size</th><th>Type</th><th>Added by</th><th>Added</th></tr>"
    return f'<table class="issues attachments"><thead>{head}</thead><tbody>{rows}</tbody></table>'


def _links(snap: IssueSnapshot) -> str:
    """Each link from this issue's side, labelled with the type's verb as Jira shows it."""
    rows = []
    for link in snap.issue.links:
        outward = link.source_id == snap.issue.id
        other = snap.linked.get(link.target_id if outward else link.source_id)
        if other is None:
            continue
        verb = link.type.outward if outward else link.type.inward
        category = escape(other.status.category.value)
        rows.append(
            f"<tr><td>{escape(verb)}</td>"
            f'<td><a href="/browse/{quote(other.key)}">{escape(other.key)}</a></td>'
            f"<td>{escape(other.summary)}</td>"
            f'<td><span class="status status-{category}">{escape(other.status.name)}</span></td>'
            "</tr>"
        )
    return f'<table class="issues"><tbody>{"".join(rows)}</tbody></table>'


def _properties(issue: Issue) -> str:
    rows = "".join(
        f"<tr><th>{escape(key)}</th><td><code>{escape(_compact(value))}</code></td></tr>"
        for key, value in sorted(issue.properties.items())
    )
    return f'<table class="meta">{rows}</table>'


def _compact(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 300 else text[:297] + "..."


def _section(title: str, doc: Any) -> str:
    content = render_adf(doc) if doc else '<p class="empty">None</p>'
    return f'<section><h2>{escape(title)}</h2><div class="adf">{content}</div></section>'


def _issue_type_name(issue: Issue, project: Project) -> str:
    it = project.issue_type(issue.issue_type_id)
    return it.name if it else issue.issue_type_id


def _priority_name(issue: Issue, project: Project) -> str:
    pid = issue.values.get("priority")
    return next((p.name for p in project.priorities if p.id == pid), "None")


# -- ADF -> HTML ---------------------------------------------------------------------------------


def render_adf(doc: Any) -> str:
    """Render an ADF document (or any node) to HTML. Unknown nodes degrade to their text."""
    if not isinstance(doc, dict):
        return ""
    return _node(doc)


def _children(node: dict[str, Any]) -> str:
    content = node.get("content")
    if not isinstance(content, list):
        return ""
    return "".join(_node(child) for child in content if isinstance(child, dict))


def _attrs(node: dict[str, Any]) -> dict[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def _safe_href(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in _SAFE_SCHEMES else None


def _node(node: dict[str, Any]) -> str:
    kind = node.get("type")
    attrs = _attrs(node)
    inner = _children(node)
    match kind:
        case "doc":
            return inner
        case "paragraph":
            return f"<p>{inner}</p>"
        case "heading":
            level = attrs.get("level")
            level = level if isinstance(level, int) and 1 <= level <= 6 else 2
            return f"<h{level}>{inner}</h{level}>"
        case "text":
            return _text(node)
        case "hardBreak":
            return "<br>"
        case "bulletList":
            return f"<ul>{inner}</ul>"
        case "orderedList":
            order = attrs.get("order")
            start = f' start="{order}"' if isinstance(order, int) and order != 1 else ""
            return f"<ol{start}>{inner}</ol>"
        case "listItem":
            return f"<li>{inner}</li>"
        case "codeBlock":
            language = attrs.get("language")
            cls = (
                f' class="language-{escape(language)}"'
                if isinstance(language, str) and language
                else ""
            )
            return f"<pre><code{cls}>{inner}</code></pre>"
        case "blockquote":
            return f"<blockquote>{inner}</blockquote>"
        case "panel":
            panel_type = attrs.get("panelType")
            panel_type = panel_type if panel_type in _PANEL_LABELS else "info"
            label = _PANEL_LABELS[str(panel_type)]
            return (
                f'<div class="panel panel-{panel_type}"><div class="panel-label">{label}</div>'
                f"{inner}</div>"
            )
        case "rule":
            return "<hr>"
        case "table":
            return f"<table>{inner}</table>"
        case "tableRow":
            return f"<tr>{inner}</tr>"
        case "tableHeader" | "tableCell":
            tag = "th" if kind == "tableHeader" else "td"
            span = "".join(
                f' {name}="{attrs[name]}"'
                for name in ("colspan", "rowspan")
                if isinstance(attrs.get(name), int) and attrs[name] > 1
            )
            return f"<{tag}{span}>{inner}</{tag}>"
        case "expand" | "nestedExpand":
            title = attrs.get("title")
            summary = escape(title) if isinstance(title, str) and title else "Details"
            return f"<details open><summary>{summary}</summary>{inner}</details>"
        case "mention":
            text = attrs.get("text") or attrs.get("id") or "someone"
            text = str(text)
            return f"<strong>{escape(text if text.startswith('@') else '@' + text)}</strong>"
        case "emoji":
            return escape(str(attrs.get("text") or attrs.get("shortName") or ""))
        case "date":
            return escape(_date_text(attrs.get("timestamp")))
        case "status":
            return f'<span class="lozenge">{escape(str(attrs.get("text", "")))}</span>'
        case "inlineCard" | "blockCard" | "embedCard":
            href = _safe_href(attrs.get("url"))
            return f'<a href="{escape(href)}">{escape(href)}</a>' if href else ""
        case _:
            return inner


def _date_text(timestamp: Any) -> str:
    try:
        return datetime.fromtimestamp(int(str(timestamp)) / 1000, UTC).strftime("%Y-%m-%d")
    except (ValueError, OverflowError, OSError):
        return ""


def _text(node: dict[str, Any]) -> str:
    out = escape(str(node.get("text", "")))
    marks = node.get("marks")
    if not isinstance(marks, list):
        return out
    for mark in marks:
        if not isinstance(mark, dict):
            continue
        attrs = _attrs(mark)
        match mark.get("type"):
            case "strong":
                out = f"<strong>{out}</strong>"
            case "em":
                out = f"<em>{out}</em>"
            case "strike":
                out = f"<s>{out}</s>"
            case "underline":
                out = f"<u>{out}</u>"
            case "code":
                out = f"<code>{out}</code>"
            case "subsup":
                tag = "sup" if attrs.get("type") == "sup" else "sub"
                out = f"<{tag}>{out}</{tag}>"
            case "textColor" | "backgroundColor":
                color = attrs.get("color")
                if isinstance(color, str) and _COLOR.fullmatch(color):
                    prop = "color" if mark.get("type") == "textColor" else "background-color"
                    out = f'<span style="{prop}:{color}">{out}</span>'
            case "link":
                href = _safe_href(attrs.get("href"))
                if href is not None:
                    out = f'<a href="{escape(href)}" rel="noopener noreferrer">{out}</a>'
    return out


class BrowsePages:
    """The page routes. No authentication: the sandbox's pages are for people trying it out."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/", self.issue_list, auth=False),
            Route("GET", "/browse", self.issue_list, auth=False),
            Route("GET", "/browse/{issueKey}", self.issue, auth=False),
            Route("GET", "/secure/attachment/{id}/{filename}", self.attachment, auth=False),
        ]

    def attachment(self, req: Request) -> Response:
        """An attachment's content, as a download (never rendered in the sandbox's origin)."""
        _snap, found = self._state.attachment(req.params["id"])
        response = Response(200, found.content, "application/octet-stream")
        response.headers["Content-Disposition"] = (
            f"attachment; filename*=UTF-8''{quote(found.filename)}"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def issue_list(self, req: Request) -> Response:
        return Response.html(issue_list_page(self._state.all_issues()))

    def issue(self, req: Request) -> Response:
        key = req.params["issueKey"]
        found = self._state.find_issue(key)
        if found is None:
            return Response.html(not_found_page(key), 404)
        return Response.html(issue_page(self._state.issue(found.id), self._state.find_user))
