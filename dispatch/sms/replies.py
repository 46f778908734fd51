"""Reading a worker's SMS reply: ``ACCEPT 4821``, ``DECLINE 4821 stuck in traffic``, ``HELP``...

People type on phones in a hurry, so the parser forgives case, spacing, a missing space
("accept4821"), a hash or colon ("Accept: #4821") and trailing punctuation. It understands a
small fixed vocabulary and nothing else; anything it cannot read is :class:`Unknown` and
changes nothing. Twilio answers STOP/START itself (the carrier-level opt-out); we still read
them so the opt-out is stored and the coordinator told. Pure: no Flask, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ACCEPT, DECLINE, ARRIVED, DONE, HELP, STOP, START = (
    "accept", "decline", "arrived", "done", "help", "stop", "start")
# Keywords people actually send for each command. YES is Twilio's opt-in keyword, so it is
# not a synonym of ACCEPT; CANCEL is one of Twilio's opt-out keywords, so it means STOP.
KEYWORDS: dict[str, str] = {
    "ACCEPT": ACCEPT, "ACCEPTED": ACCEPT, "ACCEPTS": ACCEPT,
    "DECLINE": DECLINE, "DECLINED": DECLINE, "DECLINES": DECLINE, "REJECT": DECLINE,
    "ARRIVED": ARRIVED, "ARRIVE": ARRIVED, "ARRIVAL": ARRIVED, "ONSITE": ARRIVED,
    "DONE": DONE, "COMPLETE": DONE, "COMPLETED": DONE, "FINISHED": DONE,
    "HELP": HELP, "INFO": HELP,
    "STOP": STOP, "STOPALL": STOP, "UNSUBSCRIBE": STOP, "CANCEL": STOP, "END": STOP,
    "QUIT": STOP, "OPTOUT": STOP, "REVOKE": STOP,
    "START": START, "UNSTOP": START, "YES": START,
}
# Commands that act on one visit and so need its reference.
NEEDS_REFERENCE = frozenset({ACCEPT, DECLINE, ARRIVED, DONE})
MAX_REFERENCE_DIGITS = 8
MAX_REASON_LENGTH = 200

_REPLY = re.compile(
    r"^[\W_]*(?P<word>[A-Za-z]+)[\s:#.,\-]*(?P<ref>\d{1,"
    + str(MAX_REFERENCE_DIGITS)
    + r"})?(?!\d)[\W_]*(?P<rest>.*?)[\s.!]*$",
    re.DOTALL,
)


@dataclass(frozen=True)
class Command:
    """A reply we understood. ``reference`` is None when the worker left it out."""

    kind: str
    reference: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Unknown:
    """A reply we could not read; it is stored and answered with the help text."""

    text: str


def parse_reply(text: str) -> Command | Unknown:
    """Read one SMS body. Never raises: unreadable text is :class:`Unknown`."""
    match = _REPLY.match(text or "")
    if match is None:
        return Unknown(text or "")
    kind = KEYWORDS.get(match["word"].upper())
    if kind is None:
        return Unknown(text)
    reference = match["ref"]
    rest = " ".join(match["rest"].split())
    if kind in NEEDS_REFERENCE:
        reason = rest[:MAX_REASON_LENGTH] if kind == DECLINE and rest else None
        return Command(kind, reference, reason)
    if kind in (STOP, START) and (reference or rest):
        # Twilio opts a number out only when the whole message is the keyword; "cancel 4821"
        # is a worker asking something, not an opt-out, so it gets the help text.
        return Unknown(text)
    return Command(kind)
