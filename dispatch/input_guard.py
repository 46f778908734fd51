"""Refuse text the database or the encoder cannot take, before any view sees it.

- NUL characters: PostgreSQL refuses them in text columns, so a NUL in a form field, an
  uploaded file, a text body (a roster CSV), a query value, a JSON string, a header we store
  or a page address ended as a 500 from the database.
- Lone UTF-16 surrogates (``"\\ud800"`` in JSON): Python reads them, but no UTF-8 exists for
  them, so writing them anywhere failed.
- JSON (and FHIR JSON) nested deeper than :data:`MAX_JSON_DEPTH`: Python's parser and the FHIR
  models recurse once per level and hit the interpreter's limit at about a thousand.

Each is a 4xx with a message naming where the problem is: 400 for an address, form or header
(a page shows it as an NHS.UK error page), 422 with the JSON path for an API body, in the
``{code, status, message, errors}`` shape. FHIR callers get the same JSON shape (the
request never reaches the FHIR views, which answer OperationOutcomes for what they parse).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_smorest import abort

MAX_JSON_DEPTH = 64
JSON_MIMETYPES = ("application/json", "application/fhir+json")
JSON_ANY_TYPE_PATHS = ("/fhir/",)
# Headers whose values we store or echo (audit request id, idempotency key, signatures).
STORED_HEADERS = ("X-Request-Id", "Idempotency-Key", "X-Twilio-Signature", "Authorization")
_SURROGATE = re.compile("[\ud800-\udfff]")


def init_app(app: Flask) -> None:
    app.before_request(check_request)


class Refused(Exception):
    """What is wrong with the request: its status, a message and, for JSON, the places."""

    def __init__(self, status: int, message: str,
                 errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def check_request() -> ResponseReturnValue | None:
    """Refuse the request (400/422 with a message) if its text cannot be stored: the API's
    JSON error for machines, an NHS.UK error page that says what was wrong for people."""
    try:
        _check()
    except Refused as refused:
        from dispatch.error_pages import page_text, wants_json

        if wants_json():
            abort(refused.status, message=refused.message,
                  **({"errors": refused.errors} if refused.errors else {}))
        message = refused.message[:1].upper() + refused.message[1:] + "."
        return render_template("errors/error.html", status=refused.status, message=message,
                               text=page_text(refused.status)), refused.status
    return None


def _check() -> None:
    if "\x00" in request.path:
        raise Refused(400, "the web address contains a NUL character")
    for name in STORED_HEADERS:
        if "\x00" in request.headers.get(name, ""):
            raise Refused(400, f"the {name} header contains a NUL character")
    _check_pairs("query", request.args.items(multi=True))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_pairs("form", request.form.items(multi=True))
        for name, upload in request.files.items(multi=True):
            content = upload.stream.read()
            upload.stream.seek(0)
            if b"\x00" in content:
                raise Refused(400, f"the uploaded file {name!r} contains a NUL character",
                              {"files": {name: ["contains a NUL character"]}})
    if request.mimetype.startswith("text/") and b"\x00" in request.get_data(cache=True):
        raise Refused(400, "the body contains a NUL character")
    # The FHIR endpoint reads its body as JSON whatever the Content-Type says.
    if (request.mimetype in JSON_MIMETYPES or request.mimetype.endswith("+json")
            or (request.path.startswith(JSON_ANY_TYPE_PATHS) and request.content_length)):
        _check_json(request.get_data(cache=True))


def _check_pairs(where: str, pairs: Any) -> None:
    for key, value in pairs:
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            name = key.replace("\x00", "")
            raise Refused(400, f"the {where} field {name!r} contains a NUL character; remove "
                          "it and try again", {where: {name: ["contains a NUL character"]}})


def _check_json(raw: bytes) -> None:
    text = raw.decode("utf-8", errors="replace")
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise Refused(400, f"the JSON body is nested {depth} levels deep; at most "
                      f"{MAX_JSON_DEPTH} are accepted")
    try:
        data = json.loads(text)
    except ValueError:
        return  # not JSON: the view's own parser says so in its own words
    problems: dict[str, list[str]] = {}
    _walk(data, "", problems)
    if problems:
        where, reasons = next(iter(problems.items()))
        raise Refused(422, f"{where or 'the body'} {reasons[0]}", {"json": problems})


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text`` (strings skipped), without
    parsing it (a parser would recurse into the depth we are measuring)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _walk(value: Any, path: str, problems: dict[str, list[str]]) -> None:
    if isinstance(value, str):
        _check_text(value, path, problems)
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            _check_text(key, where, problems)
            _walk(item, where, problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", problems)


def _check_text(text: str, path: str, problems: dict[str, list[str]]) -> None:
    where = path.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    if "\x00" in text:
        problems.setdefault(where, []).append("contains a NUL character")
    if _SURROGATE.search(text):
        problems.setdefault(where, []).append(
            "contains a lone UTF-16 surrogate (not a character)")
