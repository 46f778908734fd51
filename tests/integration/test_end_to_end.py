"""End to end through real processes: referral over HTTP -> planned by the scheduler process ->
offer SMS through the real twilio client to the fake Twilio -> signed replies ACCEPT, ARRIVED,
DONE -> referral completed, FHIR Task completed, 2-hour response counted as met.

Both processes pin their clock (``FIXED_NOW``) to a weekday morning so the 2-hour standard's
08:00-20:00 window applies whatever the hour the suite runs at.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.twilio_server import FakeTwilio
from tests.integration.support import (
    POSTGRES,
    Procs,
    bearer,
    call,
    fall_referral,
    free_port,
    seed_world,
    service_env,
    session_for,
    signed_sms,
    wait_until,
)

NOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)  # a Tuesday, London = UTC
SMS_WAIT = 120.0  # a bound, not a speed check (the suite must pass on a busy machine)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=POSTGRES)])
def test_end_to_end_referral_to_completed_visit_over_sms(
    kind: str, databases: Callable[[str], str], procs: Procs, fake_twilio: FakeTwilio
) -> None:
    """The whole flow of issue 5 across a web process, a scheduler process and fake Twilio."""
    # Arrange: a nurse on shift now, a patient, a coordinator's token, both processes.
    url = databases(kind)
    with session_for(url) as session:
        world = seed_world(session, now=NOW, staff=1, patients=1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(url, twilio=fake_twilio, public_url=base, fixed_now=NOW)
    from tests.integration.support import add_user

    auth = bearer(add_user(env, "coordinator"))
    procs.serve(env, port)
    procs.scheduler(env).wait_for("scheduler running")
    nurse_phone = world.staff[0][1]

    # Act 1: the referral over HTTP.
    created = call("POST", f"{base}/api/referrals", headers={**auth, "Idempotency-Key": "e2e-1"},
                   json_body=fall_referral(received_at=NOW - timedelta(minutes=5),
                                           patient_id=world.patients[0]))
    assert created.status == 201, created.body
    referral_id = created.body["id"]
    assert created.body["disposition"]["category"] == "urgent_2h"
    (visit,) = created.body["visits"]
    reference = visit["reference"]

    # Assert 1: the scheduler placed it and the offer reached "Twilio" through the real client.
    offers = wait_until(lambda: [b for b in fake_twilio.bodies_to(nurse_phone) if reference in b],
                        timeout=SMS_WAIT, what=f"the offer text for visit {reference}")
    assert len(offers) == 1
    assert "Bloggs" not in offers[0] and "W12" in offers[0]  # no name; the postcode district
    assert f"{base}/visits/{reference}" in offers[0]  # the link uses the public URL

    # Act 2: the nurse's replies, signed as Twilio signs them (and one forged reply).
    forged = call("POST", f"{base}/sms/inbound", form={"From": nurse_phone,
                                                       "Body": f"DONE {reference}"},
                  headers={"X-Twilio-Signature": "forged"})
    answers = [signed_sms(base, fake_twilio.auth_token, from_number=nurse_phone,
                          body=f"{word} {reference}") for word in ("ACCEPT", "ARRIVED", "DONE")]

    # Assert 2: refused forgery, answered replies, a completed referral, Task and KPI.
    assert forged.status == 403
    assert [a.status for a in answers] == [200, 200, 200]
    assert all(reference in a.body for a in answers), [a.body for a in answers]
    referral = call("GET", f"{base}/api/referrals/{referral_id}", headers=auth)
    assert referral.body["status"] == "completed"
    assert referral.body["visits"][0]["status"] == "completed"
    task = call("GET", f"{base}/fhir/Task/{referral_id}", headers=auth)
    assert task.status == 200 and task.body["status"] == "completed"
    kpis = call("GET", f"{base}/api/kpis?date={NOW.date().isoformat()}", headers=auth)
    assert kpis.status == 200, kpis.body
    urgent = kpis.body["summary"]["urgent_2h"]
    assert (urgent["count"], urgent["met"], urgent["breached"]) == (1, 1, 0)
    assert len(fake_twilio.messages) == 1  # the offer only: answers ride on the TwiML response
