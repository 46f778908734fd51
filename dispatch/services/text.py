"""Text a database can store: PostgreSQL refuses NUL bytes, and no driver can encode an
unpaired UTF-16 surrogate (``"\\ud800"``, which JSON allows). Refusing them at the edge turns
what was a 500 into a 422 that names the field."""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str | None:
    """None if ``text`` can be stored; otherwise the reason it cannot."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (\\u0000), which cannot be stored; remove it"
    return ("contains an unpaired surrogate (an invalid character such as \\ud800), which "
            "cannot be stored; remove it")
