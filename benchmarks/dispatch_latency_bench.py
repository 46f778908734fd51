"""Referral-to-offer-SMS latency through real processes (run on demand, not in CI).

    .venv/bin/python benchmarks/dispatch_latency_bench.py                     # SQLite, ~6 min
    .venv/bin/python benchmarks/dispatch_latency_bench.py --modes serve --referrals 30 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres      # + PostgreSQL

Builds a busy day in a fresh database (100 nurses on shift in 4 networks, 500 open visits
already offered or accepted), starts the fake Twilio server in this process and the real
service as separate processes, then sends urgent referrals (``POST /api/referrals``, a fall,
2-hour response) one at a time and measures, for each, the time until the fake Twilio server
*received* the offer text from the real twilio client. The baseline in the same run is the
``POST`` alone. Modes:

- ``serve``: ``dispatch serve`` with its jobs in-process (the demo; a POST wakes the placer);
- ``split``: ``dispatch serve --no-jobs`` + ``dispatch scheduler``, default intervals (the
  production layout: the web process cannot wake the scheduler's placer);
- ``split-1s``: as ``split`` with the placer ticking every second too.

A random pause (0 to one sender tick) between referrals spreads them over the tick's phase. Target:
p95 < 3 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dispatch import models as m  # noqa: E402
from dispatch.config import DEFAULTS  # noqa: E402
from tests.fakes.twilio_server import FakeTwilio  # noqa: E402
from tests.integration.support import (  # noqa: E402
    Procs,
    add_user,
    bearer,
    call,
    fall_referral,
    free_port,
    fresh_databases,
    now_utc,
    seed_world,
    service_env,
    session_for,
)

STAFF, VISITS, NETWORKS = 100, 500, 4
SLOT = timedelta(minutes=90)  # one existing visit per 90 minutes of a nurse's shift
TARGET_P95 = 3.0
SMS_TIMEOUT = 40.0
MODES = {
    "serve": {"jobs": True, "settings": {}},
    "split": {"jobs": False, "settings": {}},
    "split-1s": {"jobs": False, "settings": {"SEND_INTERVAL": 1, "PLACE_INTERVAL": 1}},
}
# The production intervals, read from dispatch/config.py (support.service_env shortens them for
# tests, so the benchmark puts them back).
PRODUCTION = {key: DEFAULTS[key] for key in (
    "SEND_INTERVAL", "PLACE_INTERVAL", "WATCH_INTERVAL", "REOPTIMISE_INTERVAL",
    "REOPTIMISE_SECONDS", "PLACE_SECONDS")}


@dataclass
class Sample:
    post: float  # seconds for POST /api/referrals
    sms: float | None  # seconds from sending the POST to the fake receiving the offer
    placed: float | None  # seconds from sending the POST to the visit's offered_at


@dataclass
class Run:
    mode: str
    database: str
    samples: list[Sample] = field(default_factory=list)


def build_day(url: str, now: datetime, seed: int, referrals: int, *, settle: bool = True
              ) -> list[int]:
    """The busy day; returns the patients to refer (none has an open visit)."""
    rng = random.Random(seed)
    per_net = STAFF // NETWORKS
    spare: list[int] = []
    with session_for(url) as session:
        for net in range(NETWORKS):
            world = seed_world(session, now=now, staff=per_net, serial=net,
                               patients=(VISITS + referrals) // NETWORKS + 1)
            spare += world.patients[VISITS // NETWORKS:]
            referral = m.Referral(patient_id=world.patients[0], network_id=world.network_id,
                                  source="gp", referrer_name="bench", received_at=now,
                                  status="scheduled", category="response_24h", priority=3,
                                  deadline=now + timedelta(hours=24), created_at=now)
            session.add(referral)
            session.flush()
            load = [0] * per_net
            for i in range(VISITS // NETWORKS):
                who = rng.choice([k for k in range(per_net) if load[k] < 6])
                start = now + timedelta(minutes=30) + load[who] * SLOT
                load[who] += 1
                accepted = rng.random() < 0.4
                session.add(m.Visit(
                    reference=str(200_000 + net * 1000 + i), referral_id=referral.id,
                    patient_id=world.patients[i], network_id=world.network_id,
                    category="response_24h", skills=["clinical_assessment"],
                    duration_minutes=45, earliest_start=now, deadline=start + timedelta(hours=1),
                    priority=3, status="accepted" if accepted else "offered",
                    assigned_staff_id=world.staff[who][0], shift_id=world.shifts[who],
                    planned_start=start, pinned=accepted, offered_at=now,
                    accepted_at=now if accepted else None, created_at=now))
        session.commit()
    if settle:
        settle_day(url, now)
    return spare


def settle_day(url: str, now: datetime) -> None:
    """Re-plan the built day once with the service's own planner and mark its texts as sent
    (the morning's history), so the measured run starts from a plan the re-optimiser would
    itself have made rather than from one it rewrites wholesale (see --cold)."""
    import sqlalchemy as sa

    from dispatch.db import Database
    from dispatch.planning import live
    from routing.travel import GeodesicTravelTime

    database = Database(url)
    try:
        with database.session_scope() as session:
            for network_id in session.scalars(sa.select(m.Network.id)).all():
                live.replan(session, now=now, provider=GeodesicTravelTime(),
                            network_id=network_id, seconds=2.0)
            session.execute(sa.update(m.Message).where(m.Message.status == "pending")
                            .values(status="sent", sent_at=now))
    finally:
        database.dispose()


def offer_received(fake: FakeTwilio, reference: str) -> float | None:
    """When the fake received the first offer text for ``reference`` (epoch seconds)."""
    for msg in list(fake.messages):
        if f"Visit {reference}:" in msg.body:
            return msg.created.timestamp()
    return None


def one_referral(base: str, auth: dict[str, str], fake: FakeTwilio, url: str,
                 patient_id: int, key: str) -> Sample:
    body = fall_referral(received_at=now_utc() - timedelta(minutes=1), patient_id=patient_id)
    started = time.time()
    reply = call("POST", f"{base}/api/referrals", json_body=body,
                 headers={**auth, "Idempotency-Key": key})
    posted = time.time() - started
    if reply.status != 201 or not reply.body["visits"]:
        raise SystemExit(f"POST failed: {reply.status} {reply.body}")
    reference, visit_id = reply.body["visits"][0]["reference"], reply.body["visits"][0]["id"]
    deadline = time.monotonic() + SMS_TIMEOUT
    received = None
    while received is None and time.monotonic() < deadline:
        received = offer_received(fake, reference)
        time.sleep(0.01)
    with session_for(url) as session:
        visit = session.get(m.Visit, visit_id)
        offered = visit.offered_at if visit is not None else None
    return Sample(post=posted, sms=None if received is None else received - started,
                  placed=None if offered is None else offered.timestamp() - started)


def run_mode(mode: str, kind: str, make_db: object, referrals: int, seed: int,
             folder: Path, cold: bool) -> Run:
    url = make_db(kind)  # type: ignore[operator]
    now = now_utc()
    patients = build_day(url, now, seed, referrals + 1, settle=not cold)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = Procs(folder / f"{mode}-{kind}")
    procs.folder.mkdir(parents=True, exist_ok=True)
    run = Run(mode + ("*" if cold else ""), kind)
    rng = random.Random(seed)
    with FakeTwilio() as fake:
        settings: dict[str, Any] = {**PRODUCTION, **MODES[mode]["settings"]}  # type: ignore[dict-item]
        env = service_env(url, twilio=fake, public_url=base, **settings)
        try:
            auth = bearer(add_user(env, "call_handler"))
            procs.serve(env, port, jobs=bool(MODES[mode]["jobs"]))
            if not MODES[mode]["jobs"]:
                procs.scheduler(env).wait_for("scheduler running")
            one_referral(base, auth, fake, url, patients[-1], "warm-up")  # startup re-plan
            backlog, drained = drain(url)
            print(f"  {mode:<9} {kind:<8} start-up: the first re-optimisation queued {backlog} "
                  f"texts, drained {drained:.0f} s after the warm-up referral", flush=True)
            for i in range(referrals):
                # A pause as long as the sender's tick: a closed loop would otherwise lock
                # onto its phase (each POST just after a tick, so always the worst wait).
                time.sleep(rng.uniform(0, float(settings.get("SEND_INTERVAL", 5))))
                sample = one_referral(base, auth, fake, url, patients[i], f"bench-{i}")
                run.samples.append(sample)
                print(f"  {mode:<9} {kind:<8} #{i + 1:>2}: POST {sample.post * 1000:6.0f} ms  "
                      f"SMS {_fmt(sample.sms)}", flush=True)
        finally:
            procs.stop_all()
    return run


def drain(url: str, timeout: float = 240.0) -> tuple[int, float]:
    """Wait until the outbox is empty; returns (texts written so far, seconds waited)."""
    import sqlalchemy as sa

    started = time.monotonic()
    while True:
        with session_for(url) as session:
            total = session.scalar(sa.select(sa.func.count()).select_from(m.Message)) or 0
            left = session.scalar(sa.select(sa.func.count()).select_from(m.Message).where(
                m.Message.status.in_(("pending", "sending")))) or 0
        if not left or time.monotonic() - started > timeout:
            return total, time.monotonic() - started
        time.sleep(0.5)


def _fmt(value: float | None) -> str:
    return "  missed" if value is None else f"{value:6.2f} s"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def table(runs: list[Run]) -> str:
    head = (f"{'mode':<9} {'db':<8} {'n':>3} | {'POST p50':>9} {'p95':>7} | "
            f"{'placed p50':>10} {'p95':>6} | {'SMS p50':>8} {'p95':>6} {'max':>6} | "
            f"{'missed':>6} | target p95<{TARGET_P95:g}s")
    lines = [head, "-" * len(head)]
    for run in runs:
        posts = [s.post for s in run.samples]
        sms = [s.sms for s in run.samples if s.sms is not None]
        placed = [s.placed for s in run.samples if s.placed is not None]
        ok = sms and len(sms) == len(run.samples) and percentile(sms, 0.95) < TARGET_P95
        lines.append(
            f"{run.mode:<9} {run.database:<8} {len(run.samples):>3} | "
            f"{statistics.median(posts) * 1000:7.0f}ms {percentile(posts, .95) * 1000:5.0f}ms | "
            f"{statistics.median(placed):9.2f}s {percentile(placed, .95):5.2f}s | "
            f"{statistics.median(sms):7.2f}s {percentile(sms, .95):5.2f}s {max(sms):5.2f}s | "
            f"{len(run.samples) - len(sms):>6} | {'met' if ok else 'MISSED'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--referrals", type=int, default=30)
    parser.add_argument("--modes", default="serve,split,split-1s",
                        help=f"comma-separated, from: {', '.join(MODES)}")
    parser.add_argument("--postgres", default=None,
                        help="admin URL: also run every mode on a fresh PostgreSQL database")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cold", action="store_true",
                        help="skip the settling re-plan: the service's first re-optimisation "
                             "then rewrites the seeded day and texts hundreds of workers")
    args = parser.parse_args()
    if args.postgres:
        import tests.integration.support as support

        support.ADMIN_URL = args.postgres
    kinds = ["sqlite"] + (["postgres"] if args.postgres else [])
    runs = []
    tmp = tempfile.mkdtemp(prefix="dispatch-bench-")
    with fresh_databases(Path(tmp)) as make_db:
        for kind in kinds:
            for mode in args.modes.split(","):
                runs.append(run_mode(mode, kind, make_db, args.referrals, args.seed, Path(tmp),
                                     args.cold))
    print(f"\n{STAFF} nurses on shift, {VISITS} open visits, {NETWORKS} networks; "
          f"{args.referrals} urgent referrals per row; times from sending the POST")
    print(table(runs))
    print(f"(process logs and SQLite files in {tmp})")


if __name__ == "__main__":
    main()
