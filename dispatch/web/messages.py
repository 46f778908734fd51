"""The text messages page (office): the SMS outbox and inbox, newest first, live.

With no Twilio credentials texts go to the local outbox (``dispatch.sms.sender``) and never
leave the machine; this page is where the demo shows them, so it says plainly which backend
the configuration picks. ``static/messages.js`` polls ``/messages/data`` every few seconds and
swaps in the re-rendered list; without JavaScript the Refresh link does the same.

Texts carry no patient identifiers (reference, window, postcode district, link) and workers'
numbers are masked in the service, so the page shows no patient data. Opening it is audited
once, without a patient, as the board is; the polls are not (one row every five seconds would
bury the trail).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import InvalidInput
from dispatch.http_errors import error_body
from dispatch.models.vocab import MESSAGE_STATUSES
from dispatch.request_clock import now
from dispatch.services import messages_view as service
from dispatch.sms.sender import backend_from_config
from dispatch.web.common import bp, london_time

POLL_SECONDS = 5  # how often messages.js asks for the latest texts
# The query's words for a direction, and the stored value each stands for.
DIRECTIONS = {"out": "outbound", "in": "inbound"}
DIRECTION_WORDS = {stored: word for word, stored in DIRECTIONS.items()}
FILTER_LABELS = {"direction": "Direction", "status": "Status"}


def _filters() -> service.MessageFilter:
    """``?direction=out|in``, ``?status=``, ``?before=<id>`` (blank: any).

    :raise InvalidInput: a value the page does not know, with a message for each field.
    """
    args = request.args
    errors: dict[str, list[str]] = {}
    raw_direction = args.get("direction", "").strip().lower()
    direction = DIRECTIONS.get(raw_direction, raw_direction) or None
    if direction is not None and direction not in DIRECTION_WORDS:
        errors["direction"] = ["Choose a direction: out (to staff) or in (from staff)"]
    status = args.get("status", "").strip().lower() or None
    if status is not None and status not in MESSAGE_STATUSES:
        errors["status"] = [f"Choose a status: {', '.join(MESSAGE_STATUSES)}"]
    before = None
    if raw_before := args.get("before", "").strip():
        if raw_before.isdigit() and 0 < int(raw_before) <= service.MAX_ID:
            before = int(raw_before)
        else:
            errors["before"] = ["The before value must be a message id (a whole number from 1)"]
    if errors:
        raise InvalidInput("invalid messages filter: " + "; ".join(
            f"{name}: {reasons[0]}" for name, reasons in errors.items()), errors=errors)
    return service.MessageFilter(direction=direction, status=status, before=before)


def _args(filters: service.MessageFilter) -> dict[str, str]:
    """The filter as query arguments (without ``before``) for links, the form and the poll."""
    values = {"direction": DIRECTION_WORDS.get(filters.direction or ""), "status": filters.status}
    return {k: v for k, v in values.items() if v}


def sms_backend_name() -> str:
    """``"twilio"`` or ``"local"``: the backend this configuration sends through, chosen by
    the same function the sender job uses, so the page cannot disagree with it."""
    return backend_from_config(current_app.config).name


def _list_context(filters: service.MessageFilter,
                  listing: service.MessagePage | None = None) -> dict[str, Any]:
    if listing is None:
        listing = service.list_messages(get_session(), filters=filters, actor=current_actor())
    return {"listing": listing, "filters": filters, "args": _args(filters), "now": now(),
            "direction_words": DIRECTION_WORDS}


@bp.get("/messages")
def messages_page() -> ResponseReturnValue:
    """Texts to and from staff, newest first, 50 a page; filter by direction and status."""
    try:
        filters = _filters()
    except InvalidInput as exc:
        return _render(None, errors=exc.errors), 422
    session = get_session()
    listing = service.view_messages(session, filters=filters, actor=current_actor(), now=now(),
                                    args=_args(filters), request_id=request_id())
    session.commit()
    context = _list_context(filters, listing)
    return _render(context)


def _render(context: dict[str, Any] | None,
            errors: dict[str, list[str]] | None = None) -> str:
    summary = [{"text": reasons[0], "href": f"#{name}"}
               for name, reasons in (errors or {}).items()]
    values = ({k: request.args.get(k, "") for k in FILTER_LABELS} if errors
              else {k: (context or {}).get("args", {}).get(k, "") for k in FILTER_LABELS})
    return render_template(
        "messages/messages.html", backend=sms_backend_name(), poll_seconds=POLL_SECONDS,
        statuses=MESSAGE_STATUSES, values=values, field_errors=errors or {},
        errors=summary, as_of=now(), **(context or {}))


@bp.get("/messages/data")
def messages_data() -> ResponseReturnValue:
    """The same page of texts as JSON, with the list re-rendered as HTML for ``messages.js``.

    Bad query values are a 422 in the API's error shape (this is read by a script).
    """
    try:
        filters = _filters()
    except InvalidInput as exc:
        return jsonify(error_body(exc.status, exc.message, exc.errors)), exc.status
    context = _list_context(filters)
    listing: service.MessagePage = context["listing"]
    get_session().commit()
    at = context["now"]
    return jsonify({
        "as_of": at.isoformat(), "as_of_text": london_time(at),
        "newest_id": listing.rows[0].id if listing.rows else None,
        "older_than": listing.older_than,
        "messages": [row.as_json() for row in listing.rows],
        "html": {"list": render_template("messages/_list.html", **context)},
    })
