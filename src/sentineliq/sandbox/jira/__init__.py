"""A stateful Jira Cloud sandbox: the subset of the Jira Cloud REST v3 API that SentinelIQ uses,
served over real HTTP, validating like Cloud, with scripted faults and rate limits.

    from sentineliq.sandbox.jira import JiraSandbox
    with JiraSandbox() as sb:          # 127.0.0.1, a free port
        sb.url                         # "http://127.0.0.1:<port>"
        sb.set_fault("error", status=503, count=2)

Default seed (the client, the demo and tests rely on it; `reset()` restores it)
-------------------------------------------------------------------------------
Users (accountIds are stable: `model.account_id_for(email)`):

=========================  ================  ==============  ==============================
email                      display name      API token       notes
=========================  ================  ==============  ==============================
sandbox@sentineliq.test    Sandbox Admin     sandbox-token   creates issues, browses users,
                                                             assignable, project lead
analyst@sentineliq.test    Alex Analyst      analyst-token   assignable; a person who
                                                             transitions and comments
private@sentineliq.test    Morgan Private    (none)          assignable; email hidden (no
                                                             `emailAddress` in answers)
readonly@sentineliq.test   Riley Readonly    readonly-token  browses, but 403 on create /
                                                             comment / transition / property
jordan.lee@sentineliq.test Jordan Lee        (none)          assignable; email hidden
casey.nguyen@...           Casey Nguyen      (none)          assignable; email hidden
taylor.smith@...           Taylor Smith      (none)          assignable; email hidden
devon.ortiz@...            Devon Ortiz       (none)          assignable; email hidden
=========================  ================  ==============  ==============================

Most seeded people hide their email, as on real sites: user searches still match a hidden address
exactly (never by prefix) but answers carry no `emailAddress`. `set_emails_hidden(hidden,
email=None)` hides or shows one user's address or everybody's; `add_user(..., email_visible=,
account_type="atlassian"|"app"|"customer")` adds more. Every seeded account is `atlassian`.

accountIds: sandbox 712020:0b19f24b-e184-542d-810e-a8ea2f83a7f2,
analyst 712020:241d8c3e-358c-5ca2-9256-b5295f6466b5,
private 712020:6b0ed771-fd7f-5f7d-a3e7-0dd9854ec5c2,
readonly 712020:e30c9643-4c9a-5aee-8947-dadd30fadcea.

Project SEC (id 10000, "Security Operations"); issue types Task 10001, Bug 10002, Incident 10003;
priorities Highest 1, High 2, Medium 3 (default), Low 4, Lowest 5; statuses To Do (10000),
In Progress (3), Done (10001) with transitions 11 / 21 / 31 between any of them (`set_workflow(
"classic")`: Start Progress 4, Resolve Issue 5, Close Issue 2, Stop Progress 301, Reopen Issue 3,
each from its own statuses; `localize("de")` renames statuses and transitions, ids and categories
stay). Resolutions Done 10000 (the default of a done transition), Won't Do 10001, Won't Fix
10002, Duplicate 10003, Declined 10004, Cannot Reproduce 10005. Every create
screen holds summary, issuetype, project, description, priority, labels, assignee, reporter,
duedate, the custom fields customfield_10050 "Threat score" (number, float),
customfield_10051 "Alert source" (textfield, plain string <= 255) and customfield_10052
"Analyst notes" (textarea, ADF), and issuelinks "Linked Issues" (only `update.issuelinks` add).
Issue link types (`links`): Blocks 10000, Cloners 10001, Duplicate 10002, Relates 10003
("relates to" both ways); `remove_link_type(name)` deletes one as a site admin can.
Issue keys are SEC-1, SEC-2, ...; issue ids start at 10001.
Defined but on no screen until `require_field` puts them there (required, no default):
customfield_10060 "Team" (single select: Blue Team 10100, Red Team 10101), customfield_10061
"Affected systems" (multi-select: Endpoints, Network, Cloud) and "components" (Detection 10200,
Response 10201).

Endpoints
---------
/rest/api/3: serverInfo (anonymous), myself, project/{idOrKey}, issue/createmeta/{project}/
issuetypes[/{id}], field, user/search, user/assignable/search, issue (POST), issue/bulk
(POST, up to 50; refused elements by failedElementNumber), issue/{idOrKey} (GET, PUT edit),
resolution, .../properties[/{key}] (GET, PUT), .../comment (GET, POST), .../comment/{id} (GET),
.../transitions (GET, POST), .../attachments (POST, multipart), attachment/content/{id} (GET),
issueLinkType (GET), issueLink (POST), search/jql (GET, POST; JQL
subset in `jql`); the removed search (GET, POST) answers 410. Every other /rest call needs Basic
`email:token` (401 otherwise).
Pages: / and /browse list issues, /browse/KEY shows one as HTML (attachments listed, served at
/secure/attachment/{id}/{name}). Control (no auth): /_sandbox/
fault, rate-limit, search-lag, attachment-limit, hold, release, captcha, description-rules,
screen/remove, screen/require, gateway, users, emails-hidden, workflow, localize, webhooks,
webhooks/enabled, webhooks/wait, webhooks/replay (POST); issues, requests, held,
webhooks/deliveries (GET); reset (POST).

Behaviour worth knowing
-----------------------
- Bodies of POST/PUT operations are validated against Atlassian's OpenAPI document, then Jira's
  own rules (`rules`): all field problems come back together as `{"errors": {field: message}}`.
- The description (and textarea fields, comments) must be valid ADF whose compact JSON is at most
  32,767 characters.
- Every request is recorded (`requests()`, GET /_sandbox/requests) with its body as text, never
  its headers: a test can look for a secret in everything the sandbox received.
- Faults (`faults`) and the rate limit (`ratelimit`) apply to /rest requests only; pages and the
  control API are never slowed, failed or limited. A 503 from the `error` fault carries
  `Retry-After: 1`; a request that arrives before any announced Retry-After expired is recorded
  with `early=True` (see `JiraSandbox.violations()`).
- Search lag: an issue is visible to search/jql `lag` seconds (of the sandbox clock) after its
  creation; `reconcileIssues` makes given issue ids visible at once, as on Cloud.
- A required field without a default that a create leaves out is refused as on Cloud:
  `{"errorMessages":[],"errors":{"customfield_10060":"Team is required."}}`; an unknown option:
  `"Option value 'X' is not valid"`; components given as strings: `"Please provide Component"`.
- Gateway (`set_gateway()`, off by default): the REST API is also served under
  `/ex/jira/{cloudId}/rest/api/3/...` (cloudId `sandbox.CLOUD_ID`), as api.atlassian.com serves
  it for scoped tokens; serverInfo's `baseUrl` stays the site URL. Requests are recorded with the
  path as sent.
- Description refusals (`set_description_rules`, `content`): a description limit lower than
  32,767 (Jira measuring differently from us) and Jira's generic "unsupported content" 400 for
  descriptions holding chosen node types (e.g. table, codeBlock).
- CAPTCHA lock (`set_captcha_lock`, `captcha`): while locked, every Basic-auth /rest request gets
  403 with `X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE; login-url=...` and
  `X-Seraph-LoginReason: AUTHENTICATION_DENIED`, as on Cloud; optionally N failed logins lock it.
  `captcha_refusals()` counts the requests refused while locked.
- Transitions (`workflow`): GET lists only those available from the issue's status; POSTing
  another is 400 "Transition id 'N' is not valid for this issue.". A done transition sets the
  resolution from `fields.resolution` ({"name"} or {"id"}; unknown: 400 under errors.resolution)
  or Done, and `resolutiondate`; leaving done clears both; `update.comment` adds comments in the
  same request. PUT issue edits `fields`/`update` (labels add/remove/set, others set) with the
  create checks, 204; `notifyUsers=false` silences an edit only for the project lead (Cloud
  ignores it without admin rights), and each notifying edit is listed by `notifications()`.
- Comments (`api.comments`): `properties` [{key, value}] on create, returned only with
  `expand=properties`; pages by startAt/maxResults (larger than 5000 clamped), orderBy
  created/-created. A comment moves the issue's `updated`; setting an issue property does not.
- Attachments (`api.attachments`): `POST .../attachments` needs `X-Atlassian-Token: no-check`
  (else 403 "XSRF check failed", as Cloud's XSRF protection answers) and multipart parts named
  `file`; it answers 200 with a JSON array of Attachment (id, filename, size, mimeType, created,
  author, content). A file over the site's limit (`set_attachment_max_bytes`, default 10 MiB)
  is 413. `fields.attachment` lists them on GET issue; `drop_after_create` drops the answer
  of a stored attachment too (the ambiguous case).
- Links (`links`): `fields.issuelinks` shows each link from the issue's side (`outwardIssue` on
  the source, `inwardIssue` on the target); a bad link refuses the whole create.
- Webhooks (`webhooks`): `add_webhook(url, secret, events)` registers one as a Jira admin does;
  every issue change (created, updated with a changelog, commented) is POSTed afterwards by a
  background sender, signed `X-Hub-Signature: sha256=...`, with `X-Atlassian-Webhook-Identifier`
  and, on retries after a 5xx or no answer, `X-Atlassian-Webhook-Retry`. `wait_for_webhooks()`,
  `webhook_deliveries()`, `replay_webhook(identifier)`, `set_webhooks_enabled(False)`.
- JQL compares `created`/`updated` with absolute ("yyyy/MM/dd HH:mm", UTC) or relative ("-15m")
  dates (see `jql`).
- `slow` processes the request at once and delays only the answer, so a client that times out
  still leaves the issue created (the ambiguous case). The delay is waited in the request's own
  thread, outside every lock: slow requests overlap as on a real site.
- Holding (`hold_requests(method, path)`, `hold`): matching requests wait, recorded but not yet
  handled, until `release_requests()`; `held_requests()` and `wait_until_held(n)` show how many
  a client has in flight at once without relying on timing. Released requests are handled even
  if their client has gone.
"""

from sentineliq.sandbox.jira.cli import run_sandbox
from sentineliq.sandbox.jira.clock import ManualClock
from sentineliq.sandbox.jira.recording import RecordedRequest
from sentineliq.sandbox.jira.sandbox import JiraSandbox
from sentineliq.sandbox.jira.seed import (
    ADMIN_EMAIL,
    ADMIN_TOKEN,
    ANALYST_EMAIL,
    ANALYST_TOKEN,
    PRIVATE_EMAIL,
    PROJECT_ID,
    PROJECT_KEY,
    READONLY_EMAIL,
    READONLY_TOKEN,
)

__all__ = [
    "ADMIN_EMAIL",
    "ADMIN_TOKEN",
    "ANALYST_EMAIL",
    "ANALYST_TOKEN",
    "PRIVATE_EMAIL",
    "PROJECT_ID",
    "PROJECT_KEY",
    "READONLY_EMAIL",
    "READONLY_TOKEN",
    "JiraSandbox",
    "ManualClock",
    "RecordedRequest",
    "run_sandbox",
]
