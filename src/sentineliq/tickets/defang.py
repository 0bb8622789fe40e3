"""Defanging: an indicator written so that no viewer, linkifier or careless paste turns it into a
live address (`https://evil.example/x` -> `hxxps://evil[.]example/x`).

ioc-fanger does the conventional part (`[.]` between word characters, `hXXp`, `(at)`), so the
result is what analysts' tools re-fang; it ships no type information, hence this typed wrapper.
On top of it: every remaining dot, including the ones IDNA treats as dots (U+3002, U+FF0E,
U+FF61), is bracketed; `hxxp` is lower-cased as most SOCs write it; any other scheme's `://`
becomes `[:]//` (and `mailto:` `mailto[:]`), including upper-case HTTP that ioc-fanger leaves alone.
"""

from __future__ import annotations

import re

import ioc_fanger

_HTTP = re.compile(r"(?i)h(?:tt|xx)p(s?)(?=:)")
# Any other scheme's colon (ftp://, HTTP:// ioc-fanger missed, mailto:): "[:]".
_OTHER_SCHEME = re.compile(r"(?i)(?<!\bhxxp)(?<!\bhxxps):(?=//)|(?<=mailto):")
_BARE_DOT = re.compile(r"(?<!\[)[.\u3002\uff0e\uff61]|[.\u3002\uff0e\uff61](?!\])")
_BARE_AT = re.compile(r"[@\uff20]")


def defang(value: str) -> str:
    text: str = ioc_fanger.defang(value)
    text = _HTTP.sub(r"hxxp\1", text)
    text = _BARE_DOT.sub("[.]", text)
    text = _OTHER_SCHEME.sub("[:]", text)
    return _BARE_AT.sub("(at)", text)


def fang(value: str) -> str:
    """Back to the live form, as an analyst's tool does (tests prove the round trip)."""
    result: str = ioc_fanger.fang(value)
    return result
