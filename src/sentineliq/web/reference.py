"""/docs: a human reference of the JSON API, rendered on the server from the OpenAPI document.

No JavaScript and no CDN assets (the service may run offline): one HTML page with every
operation (method, path, summary, parameters, request and response schemas) and every schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, select_autoescape

from sentineliq.web.api import OPENAPI_PATH

router = APIRouter()

_METHODS = ("get", "post", "put", "patch", "delete")

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ info.title }} reference</title>
<style>
:root{--ink:#1c2430;--muted:#5b6675;--line:#e3e7ee;--bg:#f7f8fa;--accent:#2952cc}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;
color:var(--ink);background:var(--bg)}main{max-width:980px;margin:0 auto;padding:32px 24px 64px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:40px 0 12px;padding-bottom:6px;
border-bottom:1px solid var(--line)}h3{font-size:15px;margin:0}p{margin:6px 0}
.lead{color:var(--muted)}code,.path{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;
font-size:13px}.op{background:#fff;border:1px solid var(--line);border-radius:8px;
padding:16px 18px;margin:12px 0}.head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.m{font:600 12px/1 ui-monospace,monospace;padding:4px 7px;border-radius:4px;color:#fff;
text-transform:uppercase}.get{background:#1f7a4d}.post{background:#2952cc}.put{background:#8a5a00}
.delete{background:#b42318}.patch{background:#6941c6}.summary{color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}
th,td{text-align:left;padding:5px 8px;border-top:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;border-top:0}
.req{color:#b42318;font-size:12px}nav a{color:var(--accent);text-decoration:none;margin-right:12px}
</style></head>
<body><main>
<h1>{{ info.title }} <small class="lead">v{{ info.version }}</small></h1>
<p class="lead">{{ info.summary or "" }}</p>
<p>{{ info.description or "" }}</p>
<p>Machine-readable document: <a href="{{ openapi_url }}"><code>{{ openapi_url }}</code></a></p>
<nav>{% for tag in groups %}<a href="#tag-{{ tag }}">{{ tag }}</a>{% endfor %}
<a href="#schemas">schemas</a></nav>
{% for tag, operations in groups.items() %}
<h2 id="tag-{{ tag }}">{{ tag | capitalize }}</h2>
{% for op in operations %}
<section class="op" id="{{ op.id }}">
<div class="head"><span class="m {{ op.method }}">{{ op.method }}</span>
<span class="path">{{ op.path }}</span><span class="summary">{{ op.summary }}</span></div>
{% if op.description %}<p>{{ op.description }}</p>{% endif %}
{% if op.parameters %}<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th>
</tr>{% for p in op.parameters %}<tr><td><code>{{ p.name }}</code>
{% if p.required %}<span class="req">required</span>{% endif %}</td><td>{{ p.where }}</td>
<td><code>{{ p.type }}</code></td><td>{{ p.description }}</td></tr>{% endfor %}</table>{% endif %}
{% if op.body %}<table><tr><th>Request body</th><th>Schema</th></tr>
{% for media, schema in op.body %}<tr><td><code>{{ media }}</code></td>
<td><code>{{ schema }}</code></td></tr>{% endfor %}</table>{% endif %}
<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>
{% for r in op.responses %}<tr><td><code>{{ r.status }}</code></td><td>{{ r.description }}</td>
<td><code>{{ r.schema }}</code></td></tr>{% endfor %}</table>
</section>
{% endfor %}{% endfor %}
<h2 id="schemas">Schemas</h2>
{% for name, fields in schemas %}
<section class="op" id="schema-{{ name }}"><h3><code>{{ name }}</code></h3>
{% if fields %}<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{% for f in fields %}<tr><td><code>{{ f.name }}</code>
{% if f.required %}<span class="req">required</span>{% endif %}</td>
<td><code>{{ f.type }}</code></td><td>{{ f.description }}</td></tr>{% endfor %}</table>
{% else %}<p class="lead">{{ "one of: " ~ (enums[name] | join(", ")) if enums[name] else "" }}</p>
{% endif %}</section>
{% endfor %}
</main></body></html>
"""

_environment = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_page = _environment.from_string(_TEMPLATE)


def type_name(schema: dict[str, Any] | None) -> str:
    """A short, readable type: 'Alert', 'array of Alert', 'string | null', ..."""
    if not schema:
        return "any"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for combinator, joiner in (("anyOf", " | "), ("oneOf", " | "), ("allOf", " & ")):
        if combinator in schema:
            return joiner.join(type_name(part) for part in schema[combinator])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_name(schema.get('items'))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {type_name(schema['additionalProperties'])}"
    if "enum" in schema:
        return " | ".join(repr(value) for value in schema["enum"])
    return str(kind) + (f" ({schema['format']})" if "format" in schema else "")


def _operations(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            groups.setdefault((operation.get("tags") or ["other"])[0], []).append(
                {
                    "id": operation.get("operationId", f"{method}-{path}"),
                    "method": method,
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": p["in"],
                            "required": p.get("required", False),
                            "type": type_name(p.get("schema")),
                            "description": p.get("description")
                            or p.get("schema", {}).get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "body": [(media, type_name(c.get("schema"))) for media, c in body.items()],
                    "responses": [
                        {
                            "status": status,
                            "description": response.get("description", ""),
                            "schema": ", ".join(
                                type_name(c.get("schema"))
                                for c in response.get("content", {}).values()
                            )
                            or "—",
                        }
                        for status, response in sorted(operation.get("responses", {}).items())
                    ],
                }
            )
    return groups


def render_reference(document: dict[str, Any], openapi_url: str) -> str:
    components = document.get("components", {}).get("schemas", {})
    schemas = []
    enums: dict[str, list[str]] = {}
    for name in sorted(components):
        schema = components[name]
        required = set(schema.get("required", []))
        fields = [
            {
                "name": field,
                "required": field in required,
                "type": type_name(spec),
                "description": spec.get("description", ""),
            }
            for field, spec in schema.get("properties", {}).items()
        ]
        enums[name] = [str(value) for value in schema.get("enum", [])]
        schemas.append((name, fields))
    return _page.render(
        info=document.get("info", {}),
        openapi_url=openapi_url,
        groups=_operations(document),
        schemas=schemas,
        enums=enums,
    )


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(render_reference(request.app.openapi(), OPENAPI_PATH))
