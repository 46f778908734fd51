"""UK mobile phone numbers for staff SMS.

Why only UK mobiles: field staff get every visit by SMS, and an SMS can only reach a mobile.
UK mobile numbers are ``07`` followed by nine digits (Ofcom National Telephone Numbering Plan,
range 07); in E.164 that is ``+447`` followed by nine digits. We store E.164, the form Twilio
expects, and accept the usual ways people write the number on import.
"""

from __future__ import annotations

import re
from typing import Final

#: A UK mobile number in E.164 form: +44, then 7, then nine more digits.
UK_MOBILE_E164: Final = re.compile(r"^\+447\d{9}$")

# Separators people type inside phone numbers; removed before checking.
_SEPARATORS: Final = re.compile(r"[\s\-().]")


def is_uk_mobile(phone: str) -> bool:
    """Return True if ``phone`` is a UK mobile number in E.164 form (``+447xxxxxxxxx``)."""
    return UK_MOBILE_E164.fullmatch(phone) is not None


def normalise_uk_mobile(text: str) -> str:
    """Turn a UK mobile number as people write it into E.164.

    Accepts ``07700 900123``, ``+44 7700 900123``, ``+44 (0)7700 900123``, ``447700900123``
    and ``0044 7700 900123``, with spaces, dashes, dots or brackets.

    Parameters
    ----------
    text
        The number as written.

    Returns
    -------
    str
        The number as ``+447`` followed by nine digits.

    Raises
    ------
    ValueError
        If the text is not a UK mobile number.
    """
    digits = _SEPARATORS.sub("", text.strip())
    if digits.startswith("+44"):
        digits = digits[3:]
    elif digits.startswith("0044"):
        digits = digits[4:]
    elif digits.startswith("44") and len(digits) == 12:
        digits = digits[2:]
    if digits.startswith("07"):
        digits = digits[1:]
    candidate = "+44" + digits
    if not is_uk_mobile(candidate):
        raise ValueError(
            f"{text!r} is not a UK mobile number (expected 07xxx xxxxxx or +44 7xxx xxxxxx)"
        )
    return candidate
