"""The subset of JQL the product uses, parsed strictly.

Supported: clauses on project, key/issuekey/issue/id, labels, status, issuetype/type and priority
with `=`, `!=`, `in (...)` and `not in (...)`; on created/updated with `>=`, `>`, `<=`, `<` (and
`=`, `!=`) against "yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm", "yyyy/MM/dd", "yyyy-MM-dd" (in the
user's time zone: every sandbox user's is UTC) or a relative "-15m", "-2h", "-1d", "-1w" (from
now); all joined by AND, then an optional `ORDER BY key|id|created|updated [ASC|DESC], ...`.
Anything else (OR, NOT, parentheses, other fields or operators) is a 400 that says so, never a
silent mis-match. As on Cloud, a query with no restriction is refused, and naming an issue key
or project that does not exist is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.model import Issue, Project

UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
SUPPORTED = (
    "the sandbox supports clauses on project, key (issuekey, issue, id), labels, status, "
    "issuetype and priority with =, !=, in and not in, on created and updated with >=, >, <=, "
    "<, = and !=, joined by AND, and ORDER BY key, id, created or updated"
)
_FIELDS = {
    "project": "project",
    "key": "key",
    "issuekey": "key",
    "issue": "key",
    "id": "key",
    "labels": "labels",
    "status": "status",
    "issuetype": "issuetype",
    "type": "issuetype",
    "priority": "priority",
    "created": "created",
    "createddate": "created",
    "updated": "updated",
    "updateddate": "updated",
}
_DATE_FIELDS = ("created", "updated")
_COMPARISONS = ("=", "!=", ">=", ">", "<=", "<")
_RELATIVE = re.compile(r"^([+-]?)(\d+)([wdhm])$")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
_SORT_FIELDS = ("key", "id", "created", "updated")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|!~|<=|>=|=|~|<|>)
      | (?P<punct>[(),])
      | (?P<word>[^\s"'(),=!~<>]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # string | op | punct | word | end
    text: str
    pos: int


@dataclass(frozen=True)
class Clause:
    field: str  # canonical: project, key, labels, status, issuetype, priority, created, updated
    negate: bool
    values: tuple[str, ...]
    op: str = "="  # for created/updated: one of _COMPARISONS


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    order: tuple[Sort, ...]


class Catalog(Protocol):
    """What evaluating a query needs to know beyond the issues themselves."""

    def projects(self) -> list[Project]: ...

    def find_issue(self, ref: str) -> Issue | None: ...


def _error(detail: str) -> JiraError:
    return JiraError(400, [f"Error in the JQL Query: {detail}"])


def _unsupported(what: str) -> JiraError:
    return JiraError(400, [f"Unsupported JQL: {what}; {SUPPORTED}."])


def _tokenize(jql: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(jql):
        if jql[pos:].strip() == "":
            break
        match = _TOKEN.match(jql, pos)
        if match is None or match.end() == pos:
            raise _error(f"The character '{jql[pos:].strip()[0]}' is not allowed here.")
        kind = match.lastgroup or "word"
        text = match.group(kind)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(_Token(kind, text, match.start(kind)))
        pos = match.end()
    tokens.append(_Token("end", "", len(jql)))
    return tokens


class _Parser:
    def __init__(self, jql: str) -> None:
        self.tokens = _tokenize(jql)
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "word" and token.text.lower() == word

    def parse(self) -> Query:
        clauses: list[Clause] = []
        if self.peek().kind != "end" and not self.is_keyword("order"):
            clauses.append(self.clause())
            while self.is_keyword("and"):
                self.take()
                clauses.append(self.clause())
        if self.is_keyword("or"):
            raise _unsupported("OR")
        order = self.order_by() if self.is_keyword("order") else ()
        token = self.peek()
        if token.kind != "end":
            raise _error(
                f"Expecting AND or ORDER BY but got '{token.text}' at position {token.pos}."
            )
        return Query(tuple(clauses), order)

    def clause(self) -> Clause:
        token = self.take()
        if token.kind == "punct" and token.text == "(":
            raise _unsupported("parenthesised sub-queries")
        if token.kind == "word" and token.text.lower() == "not":
            raise _unsupported("NOT")
        if token.kind not in ("word", "string"):
            raise _error(f"Expecting a field name but got '{token.text}' at position {token.pos}.")
        name = token.text.lower()
        if name not in _FIELDS:
            raise _unsupported(f"field '{token.text}'")
        field = _FIELDS[name]
        op = self.take()
        if field in _DATE_FIELDS:
            if op.kind != "op" or op.text not in _COMPARISONS:
                raise _unsupported(f"operator '{op.text}' on {field}")
            return Clause(field, False, (self.value(),), op.text)
        if op.kind == "op" and op.text in ("=", "!="):
            return Clause(field, op.text == "!=", (self.value(),))
        if op.kind == "word" and op.text.lower() == "in":
            return Clause(field, False, self.value_list())
        if op.kind == "word" and op.text.lower() == "not" and self.is_keyword("in"):
            self.take()
            return Clause(field, True, self.value_list())
        if op.kind == "end":
            raise _error(f"Expecting an operator after '{token.text}'.")
        raise _unsupported(f"operator '{op.text}'")

    def value(self) -> str:
        token = self.take()
        if token.kind == "string":
            return token.text
        if token.kind == "word":
            if token.text.lower() in ("empty", "null") or token.text.endswith(")"):
                raise _unsupported(f"value '{token.text}'")
            if token.text.lower() in ("and", "or", "order"):
                raise _error(f"Expecting a value but got '{token.text}' at position {token.pos}.")
            return token.text
        raise _error(f"Expecting a value but got '{token.text}' at position {token.pos}.")

    def value_list(self) -> tuple[str, ...]:
        opening = self.take()
        if opening.text != "(":
            raise _error(f"Expecting '(' but got '{opening.text}' at position {opening.pos}.")
        values = [self.value()]
        while self.peek().text == ",":
            self.take()
            values.append(self.value())
        closing = self.take()
        if closing.text != ")":
            raise _error(f"Expecting ')' but got '{closing.text}' at position {closing.pos}.")
        return tuple(values)

    def order_by(self) -> tuple[Sort, ...]:
        self.take()
        if not self.is_keyword("by"):
            raise _error("Expecting 'BY' after 'ORDER'.")
        self.take()
        sorts = [self.sort()]
        while self.peek().text == ",":
            self.take()
            sorts.append(self.sort())
        if len(sorts) > 7:
            raise JiraError(400, ["ORDER BY takes at most 7 fields."])
        return tuple(sorts)

    def sort(self) -> Sort:
        token = self.take()
        name = token.text.lower()
        if token.kind not in ("word", "string") or name not in (*_SORT_FIELDS, "issuekey"):
            raise _unsupported(f"ORDER BY '{token.text}'")
        descending = False
        if self.is_keyword("asc") or self.is_keyword("desc"):
            descending = self.take().text.lower() == "desc"
        return Sort("key" if name == "issuekey" else name, descending)


def parse(jql: str) -> Query:
    """Parse `jql`; raise JiraError(400) if it is malformed, unsupported or unbounded."""
    query = _Parser(jql).parse()
    if not query.clauses:
        raise JiraError(400, [UNBOUNDED])
    return query


Predicate = Callable[[Issue, Project], bool]


def compile_query(query: Query, catalog: Catalog) -> Predicate:
    """Resolve the clause values against the catalog (raising Jira's 400s for unknown keys and
    projects) and return a predicate over issues."""
    predicates = [_compile_clause(c, catalog) for c in query.clauses]
    return lambda issue, project: all(p(issue, project) for p in predicates)


def _compile_clause(clause: Clause, catalog: Catalog) -> Predicate:
    values = clause.values
    lowered = {v.lower() for v in values}
    if clause.field == "project":
        project_ids = {_resolve_project(v, catalog) for v in values}
    if clause.field == "key":
        issue_ids = {_resolve_issue(v, catalog) for v in values}
    if clause.field in _DATE_FIELDS:
        return _compile_date(clause)

    def test(issue: Issue, project: Project) -> bool:
        match clause.field:
            case "project":
                return issue.project_id in project_ids
            case "key":
                return issue.id in issue_ids
            case "labels":
                return any(label in values for label in issue.values.get("labels", []))
            case "status":
                return issue.status.name.lower() in lowered or issue.status.id in lowered
            case "issuetype":
                it = project.issue_type(issue.issue_type_id)
                return it is not None and (it.id in lowered or it.name.lower() in lowered)
            case _:  # priority
                pid = issue.values.get("priority")
                pr = next((p for p in project.priorities if p.id == pid), None)
                return pr is not None and (pr.id in lowered or pr.name.lower() in lowered)

    if clause.negate:
        return lambda issue, project: not test(issue, project)
    return test


def _parse_moment(value: str, field: str, now: datetime) -> datetime:
    """A JQL date: relative to `now` ("-15m"), or absolute in the user's (UTC) time zone."""
    relative = _RELATIVE.match(value.strip())
    if relative:
        sign, amount, unit = relative.groups()
        seconds = int(amount) * _UNIT_SECONDS[unit]
        return now + timedelta(seconds=seconds if sign == "+" else -seconds)
    for pattern in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise _error(
        f"Date value '{value}' for field '{field}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
        "format e.g. '-5d', '4w 2d'."
    )


def _compile_date(clause: Clause) -> Predicate:
    # Resolved once, when the search runs: relative dates count back from the search's "now".
    moment = _parse_moment(clause.values[0], clause.field, datetime.now(UTC))
    compare: dict[str, Callable[[datetime], bool]] = {
        "=": lambda t: t == moment,
        "!=": lambda t: t != moment,
        ">=": lambda t: t >= moment,
        ">": lambda t: t > moment,
        "<=": lambda t: t <= moment,
        "<": lambda t: t < moment,
    }
    test = compare[clause.op]
    if clause.field == "created":
        return lambda issue, project: test(issue.created)
    return lambda issue, project: test(issue.updated)


def _resolve_project(value: str, catalog: Catalog) -> str:
    for project in catalog.projects():
        if value == project.id or value.lower() in (project.key.lower(), project.name.lower()):
            return project.id
    raise JiraError(400, [f"The value '{value}' does not exist for the field 'project'."])


def _resolve_issue(value: str, catalog: Catalog) -> str:
    issue = catalog.find_issue(value)
    if issue is None:
        raise JiraError(400, [f"An issue with key '{value}' does not exist for field 'key'."])
    return issue.id


def sort_key(order: Sequence[Sort]) -> Callable[[Issue], tuple[object, ...]]:
    """A key for list.sort; the default, like Cloud's, shows the newest issues first."""
    sorts = order or (Sort("created", True),)

    def key(issue: Issue) -> tuple[object, ...]:
        parts: list[object] = []
        for s in sorts:
            if s.field in ("key", "id"):
                prefix, _, number = issue.key.rpartition("-")
                value: tuple[object, ...] = (prefix, int(number))
            elif s.field == "created":
                value = (issue.created, int(issue.id))
            else:
                value = (issue.updated, int(issue.id))
            parts.append(_Reverse(value) if s.descending else value)
        return tuple(parts)

    return key


@dataclass(frozen=True)
class _Reverse:
    """Inverts ordering inside a tuple sort key, for DESC."""

    value: tuple[object, ...]

    def __lt__(self, other: _Reverse) -> bool:
        return self.value > other.value
