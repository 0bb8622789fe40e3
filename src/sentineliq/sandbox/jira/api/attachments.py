"""Issue attachments: POST /issue/{key}/attachments (multipart, part name `file`, header
`X-Atlassian-Token: no-check`) answering 200 with a JSON array of Attachment; the content at
/attachment/content/{id}.

As on Cloud: without the header the request is blocked by the XSRF check (403, "XSRF check
failed"); a file larger than the site's limit (`set_attachment_max_bytes`, default 10 MiB) is
413; more than 60 files at once is 413 too.
"""

from __future__ import annotations

from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

from sentineliq.sandbox.jira.api.base import ApiBase
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.views import attachment_json
from sentineliq.sandbox.jira.wire import Request, Response

XSRF_MESSAGE = "XSRF check failed"
MAX_FILES = 60


class AttachmentApi(ApiBase):
    def add_attachments(self, req: Request) -> Response:
        if req.headers.get("x-atlassian-token", "").strip().lower() != "no-check":
            return Response(403, XSRF_MESSAGE.encode(), "text/plain;charset=UTF-8")
        ref = req.params["issueIdOrKey"]
        self.state.issue(ref)  # 404 before 403, as Jira does
        self._require_write(req.caller, "create attachments for this issue")
        files = _files(req)
        if not files:
            raise JiraError(
                400, ["No file was attached: send it in a multipart part named 'file'."]
            )
        if len(files) > MAX_FILES:
            raise JiraError(413, [f"You can attach at most {MAX_FILES} files at once."])
        limit = self.state.attachment_max_bytes
        for name, _type, content in files:
            if len(content) > limit:
                raise JiraError(
                    413,
                    [
                        f"The file '{name}' is too large to attach: it is {len(content)} bytes "
                        f"and the limit is {limit} bytes."
                    ],
                )
        added = self.state.add_attachments(ref, req.caller, files)
        return Response.json([attachment_json(a, req.base_url, self._user) for a in added], 200)

    def attachment_content(self, req: Request) -> Response:
        _snap, attachment = self.state.attachment(req.params["id"])
        return Response(200, attachment.content, attachment.mime_type)


def _files(req: Request) -> list[tuple[str, str, bytes]]:
    """The `file` parts of a multipart/form-data body: (filename, mime type, content)."""
    content_type = req.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise JiraError(415, ["Unsupported Media Type: send the files as multipart/form-data."])
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + req.body)
    if not message.is_multipart():
        raise JiraError(400, ["The multipart body could not be read."])
    files = []
    for part in message.iter_parts():
        if (
            not isinstance(part, Message)
            or part.get_param("name", header="content-disposition") != "file"
        ):
            continue
        filename = part.get_filename() or "attachment"
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        files.append((filename, part.get_content_type(), content))
    return files
