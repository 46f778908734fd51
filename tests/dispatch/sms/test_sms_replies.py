"""Reading workers' replies: forgiving of case, spacing and punctuation; strict on meaning."""

from __future__ import annotations

import pytest

from dispatch.sms.replies import Command, Unknown, parse_reply


@pytest.mark.parametrize(("text", "expected"), [
    ("ACCEPT 4821", Command("accept", "4821")),
    ("accept4821", Command("accept", "4821")),
    ("  Accept   4821 ", Command("accept", "4821")),
    ("Accept: #4821", Command("accept", "4821")),
    ("accepted 4821.", Command("accept", "4821")),
    ("decline 4821 stuck in traffic", Command("decline", "4821", "stuck in traffic")),
    ("DECLINE4821   car  broke down!!", Command("decline", "4821", "car broke down")),
    ("Decline 4821", Command("decline", "4821", None)),
    ("ARRIVED 4821", Command("arrived", "4821")),
    ("arrived\n4821", Command("arrived", "4821")),
    ("Done 4821", Command("done", "4821")),
    ("complete 48213", Command("done", "48213")),
    ("help", Command("help")),
    ("HELP me", Command("help")),
    ("STOP", Command("stop")),
    ("unsubscribe", Command("stop")),
    ("Start", Command("start")),
    ("ACCEPT", Command("accept", None)),
])
def test_parse_reply_understands(text: str, expected: Command) -> None:
    """Each row is a way people really type a command."""
    assert parse_reply(text) == expected


@pytest.mark.parametrize("text", [
    "", "   ", "4821", "yes please", "hello 4821", "ok", "cancel 4821", "stop 4821", "👍",
])
def test_parse_reply_refuses_to_guess(text: str) -> None:
    """Anything else is Unknown (answered with help, changes nothing). "cancel 4821" is not an
    opt-out at Twilio, and not a visit cancellation either."""
    assert isinstance(parse_reply(text), Unknown)


def test_parse_reply_caps_the_reason() -> None:
    """A long decline reason is kept to 200 characters."""
    parsed = parse_reply("DECLINE 4821 " + "x" * 500)

    assert isinstance(parsed, Command) and parsed.reason is not None
    assert len(parsed.reason) == 200
