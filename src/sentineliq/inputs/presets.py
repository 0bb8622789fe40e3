"""Built-in webhook mappings for tools whose payload shape is known: usable by name as they are
(`.../inputs/splunk`), or copied into a workspace mapping and adjusted.

- splunk: Splunk's webhook alert action, which posts a fixed body (`sid`, `search_name`, `app`,
  `owner`, `results_link`, and `result`, the first result row; help.splunk.com, "Use a webhook
  alert action"). The row's fields are the search's own: the preset reads the Common
  Information Model names (`src_ip`, `dest`, `severity`, `_time`, ...) when present.
- elastic: Kibana's webhook connector posts the body its action defines, from the rule action
  variables (`date`, `kibanaBaseUrl`, `rule.*`, `alert.*`, `context`; elastic.co, "Rule action
  variables"). The preset reads the body docs/inputs.md gives to paste in (ELASTIC_BODY).
- wazuh: a Wazuh alert as its integrator sends it (`rule.level`, `rule.description`, `agent`,
  `data.srcip`, `rule.mitre.id`, ...).
"""

from __future__ import annotations

from sentineliq.inputs.webhook import WebhookMapping

# Kibana's Webhook connector "Body": paste it in the rule's action (frequency: for each alert).
ELASTIC_BODY = """{
  "date": "{{date}}",
  "kibanaBaseUrl": "{{kibanaBaseUrl}}",
  "rule": {"id": "{{rule.id}}", "name": "{{rule.name}}", "spaceId": "{{rule.spaceId}}",
           "tags": {{{rule.tags.asJSON}}}, "url": "{{rule.url}}"},
  "alert": {"id": "{{alert.id}}", "uuid": "{{alert.uuid}}",
            "actionGroup": "{{alert.actionGroup}}", "actionGroupName": "{{alert.actionGroupName}}"},
  "context": {{{context}}}
}"""

_SEVERITY_WORDS = {
    "critical": "critical",
    "very-high": "critical",
    "high": "high",
    "error": "high",
    "medium": "medium",
    "warning": "medium",
    "low": "low",
    "informational": "info",
    "info": "info",
}

SPLUNK = WebhookMapping.model_validate(
    {
        "description": "Splunk's webhook alert action (sid, search_name, results_link, result)",
        "source": "Splunk",
        "fields": {
            "title": "search_name || join(' ', ['Splunk search', sid || 'alert'])",
            "fingerprint": "[sid, result]",
            "external_id": "sid",
            "description": "result",
            "severity": "result.severity || result.urgency",
            "detected_at": "result._time",
            "link": "results_link",
            "category": "result.sourcetype",
            "tags": "{app: app, owner: owner}",
            "affected_assets": "[result.dest, result.host]",
            "mitre": 'result."annotations.mitre_attack" || result.mitre_technique_id',
        },
        "observables": {
            "ip": "[result.src_ip, result.dest_ip]",
            "domain": "result.domain",
            "url": "result.url",
            "email": "result.sender || result.recipient",
            "hash_sha256": "result.file_hash",
        },
        "severity_map": _SEVERITY_WORDS,
    }
)

ELASTIC = WebhookMapping.model_validate(
    {
        "description": "Kibana's webhook connector, with the body in docs/inputs.md",
        "source": "Elastic",
        "fields": {
            "title": "context.title || context.rule.name || rule.name",
            "fingerprint": "alert.uuid || [rule.id, alert.id]",
            "description": "context.message || context.reason || context.conditions",
            "severity": "context.rule.severity || rule.params.severity",
            "detected_at": "date",
            "link": "context.link || context.results_link || rule.url",
            "category": "rule.name",
            "tags": "rule.tags",
            "affected_assets": "[context.hits[]._source.host.name, context.alerts[].host.name]",
            "mitre": "[context.rule.threat[].technique[].id, context.rule.threat[].tactic.id]",
            "status": "alert.actionGroup",
        },
        "observables": {
            "ip": "[context.hits[]._source.source.ip, context.hits[]._source.destination.ip, "
            "context.alerts[].source.ip, context.alerts[].destination.ip]",
            "domain": "context.hits[]._source.url.domain",
            "url": "context.hits[]._source.url.full",
        },
        "severity_map": _SEVERITY_WORDS,
    }
)

_WAZUH_LEVELS = {
    **{str(level): "info" for level in range(3)},
    **{str(level): "low" for level in range(3, 5)},
    **{str(level): "medium" for level in range(5, 8)},
    **{str(level): "high" for level in range(8, 12)},
    **{str(level): "critical" for level in range(12, 16)},
}

WAZUH = WebhookMapping.model_validate(
    {
        "description": "A Wazuh alert as its integrator posts it (rule, agent, data)",
        "source": "Wazuh",
        "fields": {
            "title": "rule.description",
            "fingerprint": "id",
            "external_id": "id",
            "description": "full_log",
            "severity": "rule.level",
            "detected_at": "timestamp",
            "category": "join(', ', rule.groups || [])",
            "tags": "rule.groups",
            "affected_assets": "[agent.name, agent.ip]",
            "mitre": "rule.mitre.id",
        },
        "observables": {
            "ip": "[data.srcip, data.dstip]",
            "url": "data.url",
            "hash_sha256": "syscheck.sha256_after",
        },
        "severity_map": _WAZUH_LEVELS,
    }
)

PRESETS: dict[str, WebhookMapping] = {"splunk": SPLUNK, "elastic": ELASTIC, "wazuh": WAZUH}
