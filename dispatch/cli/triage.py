"""``dispatch triage``: triage one referral's answers from a JSON file (no database)."""

from __future__ import annotations

import json
from typing import Any

import click

from dispatch.cli.common import fail, print_json


@click.command("triage")
@click.argument("source", type=click.File("r"), metavar="FILE|-")
def triage_command(source: Any) -> None:
    """Triage one referral's answers and observations (JSON) and print the disposition as JSON.

    The input is the triage JSON of the API (received_at with a zone, needs, red_flags,
    red_flag_answers, observations, frailty, risk_tier, pathways_disposition,
    pathways_timeframe_minutes, age or age_years or date_of_birth). Exits 2 with the reasons
    on invalid input, and when there is nothing to triage (no needs, no red-flag answer, no
    observations).
    """
    from triage import TriageInputError
    from triage.parsing import triage_dict

    try:
        data = json.load(source)
    except json.JSONDecodeError as exc:
        fail(f"not valid JSON: {exc}")
    try:
        print_json(triage_dict(data))
    except TriageInputError as exc:
        fail(
            "invalid triage input:\n"
            + "\n".join(f"  {field}: {'; '.join(reasons)}" for field, reasons in exc.errors.items())
        )
