"""Helpers for the integration tests: real ``dispatch`` processes, fresh databases, seeding, HTTP.

Why real processes: the bugs these tests hunt (a lock that is not released by SIGKILL, a job run
twice by two schedulers, a referral half-written when the web process dies) only exist across
process boundaries and real connections. Every wait is bounded (:func:`wait_until`), every
process is killed at teardown by its own pid, and every database is made for the test and
dropped afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so
from twilio.request_validator import RequestValidator

from dispatch import models as m
from dispatch.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL_ENV = "DISPATCH_TEST_POSTGRES_ADMIN_URL"
ADMIN_URL = os.environ.get(ADMIN_URL_ENV)
#: Marks for a PostgreSQL-only test: ``postgres`` (what it needs), ``db`` (so ``.ci/run``'s
#: ``-m db`` pass on PostgreSQL runs it) and a skip when no admin URL is given.
POSTGRES = (
    pytest.mark.postgres,
    pytest.mark.db,
    pytest.mark.skipif(not ADMIN_URL, reason=f"{ADMIN_URL_ENV} is not set"),
)
F = TypeVar("F", bound=Callable[..., Any])


def postgres_only(test: F) -> F:
    """Apply :data:`POSTGRES` to one test function."""
    for mark in POSTGRES:
        test = mark(test)
    return test


FROM_NUMBER = "+447700900999"
SECRET_KEY = "integration-test-secret"
START_TIMEOUT = 180.0  # a bound against a hung process, not a speed check (~3 s when quiet;
# a busy machine importing flask, sqlalchemy, ortools and twilio took over 30 s)
T = TypeVar("T")


# --- waiting ----------------------------------------------------------------------------------


def wait_until(
    probe: Callable[[], T], *, timeout: float, what: str, interval: float = 0.05
) -> T:
    """Poll ``probe`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- processes --------------------------------------------------------------------------------


def dispatch_command() -> list[str]:
    """The ``dispatch`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("dispatch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dispatch.cli"]


@dataclass
class Proc:
    """A real child process whose output goes to files (a full pipe would block it)."""

    name: str
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    def output(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> None:
        """Wait until ``text`` appears in the output; fail early if the process died."""
        def seen() -> bool:
            if text in self.output():
                return True
            if self.popen.poll() is not None:
                pytest.fail(f"{self.name} exited ({self.popen.returncode}) before printing "
                            f"{text!r}:\n{self.output()[-3000:]}")
            return False
        wait_until(seen, timeout=timeout, what=f"{self.name} to print {text!r}")

    def kill(self) -> None:
        """SIGKILL, no chance to clean up (what the crash tests are about); reaps the child."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Procs:
    """Every process a test starts, so teardown can stop them all by pid."""

    folder: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: Mapping[str, str]) -> Proc:
        n = len(self.started)
        out, err = self.folder / f"{n}-{name}.out", self.folder / f"{n}-{name}.err"
        with out.open("wb") as o, err.open("wb") as e:
            popen = subprocess.Popen([*dispatch_command(), *args], cwd=ROOT, env=dict(env),
                                     stdout=o, stderr=e, start_new_session=True)
        proc = Proc(name, popen, out, err)
        self.started.append(proc)
        return proc

    def serve(self, env: Mapping[str, str], port: int, *, jobs: bool = False) -> Proc:
        """``dispatch serve`` on ``port``; returns once ``/healthz`` answers."""
        proc = self.start("serve", ["serve", "--host", "127.0.0.1", "--port", str(port),
                                    "--no-upgrade", "--jobs" if jobs else "--no-jobs"], env)
        url = f"http://127.0.0.1:{port}/healthz"

        def up() -> bool:
            if proc.popen.poll() is not None:
                pytest.fail(f"dispatch serve exited early:\n{proc.output()[-3000:]}")
            try:
                return call("GET", url, timeout=2).status == 200
            except OSError:
                return False
        wait_until(up, timeout=START_TIMEOUT, what="dispatch serve to answer /healthz",
                   interval=0.1)
        return proc

    def scheduler(self, env: Mapping[str, str], *, standby_seconds: float = 1.0) -> Proc:
        """``dispatch scheduler`` (not waited for: a standby one never says it runs)."""
        return self.start("scheduler", ["scheduler", "--standby-seconds", str(standby_seconds)],
                          env)

    def stop_all(self) -> None:
        for proc in self.started:
            proc.stop()


def service_env(
    database_url: str, *, twilio: Any | None = None, public_url: str = "http://127.0.0.1:9",
    fixed_now: datetime | None = None, **settings: object,
) -> dict[str, str]:
    """The environment of a ``dispatch`` process: database, Twilio (the fake), fast jobs.

    Job intervals default to 1 s for sending and placing (the production defaults are 5 and
    10 s); re-optimisation is pushed out of the way unless a test asks for it.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}
    env.update({"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
                "DISPATCH_DATABASE_URL": database_url, "DISPATCH_SECRET_KEY": SECRET_KEY,
                "DISPATCH_PUBLIC_BASE_URL": public_url})
    defaults: dict[str, object] = {"SEND_INTERVAL": 1, "PLACE_INTERVAL": 1,
                                   "WATCH_INTERVAL": 3600, "REOPTIMISE_INTERVAL": 3600,
                                   "REOPTIMISE_SECONDS": 0.2, "PLACE_SECONDS": 0.5}
    if twilio is not None:
        defaults.update({"TWILIO_ACCOUNT_SID": twilio.account_sid,
                         "TWILIO_AUTH_TOKEN": twilio.auth_token, "TWILIO_FROM": FROM_NUMBER,
                         "TWILIO_BASE_URL": twilio.base_url})
    if fixed_now is not None:
        defaults["FIXED_NOW"] = fixed_now.isoformat()
    defaults.update(settings)
    env.update({f"DISPATCH_{k}": str(v) for k, v in defaults.items()})
    return env


def add_user(env: Mapping[str, str], role: str) -> str:
    """``dispatch user add`` for real; returns the API token it prints on its last line."""
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    # A coordinator must be given networks (issue 14): these tests use a hub coordinator.
    scope = ["--all-networks"] if role == "coordinator" else []
    done = subprocess.run([*dispatch_command(), "user", "add", name, "--role", role, *scope],
                          cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


# --- databases --------------------------------------------------------------------------------


@contextmanager
def fresh_databases(folder: Path) -> Iterator[Callable[[str], str]]:
    """A factory of fresh, migrated databases (``"sqlite"`` or ``"postgres"``), all dropped at
    exit; PostgreSQL ones are created through the admin URL and dropped ``WITH (FORCE)`` (a
    SIGKILLed process may have left a backend behind)."""
    made: list[str] = []
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT") if ADMIN_URL else None

    def make(kind: str) -> str:
        name = f"dispatch_it_{uuid.uuid4().hex[:12]}"
        if kind == "sqlite":
            url = f"sqlite:///{folder / (name + '.sqlite3')}"
        else:
            if admin is None:
                pytest.skip(f"{ADMIN_URL_ENV} is not set")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            made.append(name)
            url = admin.url.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        return url

    try:
        yield make
    finally:
        if admin is not None:
            with admin.connect() as conn:
                for name in made:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@contextmanager
def session_for(url: str) -> Iterator[so.Session]:
    """A session on a new engine (committed by the caller), disposed at exit."""
    from dispatch.db import make_engine

    engine = make_engine(url)
    try:
        with so.Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


# --- rows -------------------------------------------------------------------------------------


def nhs_number(serial: int) -> str:
    """A valid NHS number (modulus 11) from a serial, skipping serials whose check is 10."""
    while True:
        first9 = f"{900000000 + serial:09d}"
        total = sum(int(d) * w for d, w in zip(first9, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check != 10:
            return first9 + str(0 if check == 11 else check)
        serial += 1


def phone(n: int) -> str:
    return f"+4477009{n:05d}"


@dataclass
class World:
    """The ids a test needs back from :func:`seed_world`."""

    network_id: int
    base_id: int
    staff: list[tuple[int, str]]  # (id, phone)
    shifts: list[int]
    patients: list[int]


NURSE_SKILLS = ["clinical_assessment", "falls_assessment", "wound_care", "catheter_care"]
BASE_LAT, BASE_LON = 51.5136, -0.2247  # White City


def seed_world(
    session: so.Session, *, now: datetime, staff: int = 1, patients: int = 1,
    serial: int = 0, shift_hours: tuple[float, float] = (-1, 9),
) -> World:
    """One network and base, ``staff`` district nurses on shift around ``now`` and
    ``patients`` patients near the base (all in the network), committed."""
    net = m.Network(code=f"IT{serial}", name=f"Integration {serial}",
                    borough="Hammersmith & Fulham", on_call_phone=phone(90000 + serial))
    session.add(net)
    session.flush()
    # The network is run by a coordinator (else the deadline watch escalates that, H-111).
    coordinator = m.User(username=f"it{serial}-coordinator", display_name="Cora",
                         role="coordinator", network_id=net.id, created_at=now)
    session.add(coordinator)
    session.flush()
    session.add(m.UserNetwork(user_id=coordinator.id, network_id=net.id))
    base = m.StaffBase(code=f"ITB{serial}", name="White City hub", network_id=net.id,
                       postcode="W12 7RQ", lat=BASE_LAT, lon=BASE_LON)
    session.add(base)
    session.flush()
    members, shifts = [], []
    for i in range(staff):
        member = m.Staff(code=f"IT{serial}-N{i}", name=f"Nurse {i}", role="district_nurse",
                         skills=NURSE_SKILLS, phone=phone(serial * 1000 + i),
                         network_id=net.id, base_id=base.id, travel_mode="car")
        session.add(member)
        session.flush()
        shift = m.Shift(code=f"IT{serial}-SH{i}", staff_id=member.id, base_id=base.id,
                        starts_at=now + timedelta(hours=shift_hours[0]),
                        ends_at=now + timedelta(hours=shift_hours[1]), breaks=[])
        session.add(shift)
        session.flush()
        members.append((member.id, member.phone))
        shifts.append(shift.id)
    people = []
    for i in range(patients):
        patient = m.Patient(
            nhs_number=nhs_number(serial * 100_000 + i * 3), given_name="Joe",
            family_name=f"Bloggs{i}", date_of_birth=date(1941, 3, 2),
            address=f"{i + 1} Wood Lane", postcode="W12 7RQ", network_id=net.id,
            lat=BASE_LAT + 0.004 * ((i % 7) - 3), lon=BASE_LON + 0.004 * ((i // 7 % 7) - 3),
            risk_tier="very_high", frailty=6, conditions=["dementia"], created_at=now)
        session.add(patient)
        session.flush()
        people.append(patient.id)
    session.commit()
    return World(net.id, base.id, members, shifts, people)


def seed_visits(
    session: so.Session, world: World, *, now: datetime, count: int,
    skills: tuple[str, ...] = ("falls_assessment",), duration: int = 45,
    window: tuple[float, float] = (0, 8), reference_from: int = 100_000,
) -> list[int]:
    """``count`` unassigned urgent visits of one referral, spread over the world's patients;
    each may start from ``now + window[0]`` hours and must start by ``now + window[1]``."""
    referral = m.Referral(
        patient_id=world.patients[0], network_id=world.network_id, source="111",
        referrer_name="seed", received_at=now, status="scheduled", category="urgent_2h",
        priority=2, deadline=now + timedelta(hours=window[1]), created_at=now)
    session.add(referral)
    session.flush()
    visits = [m.Visit(
        reference=str(reference_from + i), referral_id=referral.id,
        patient_id=world.patients[i % len(world.patients)], network_id=world.network_id,
        category="urgent_2h", skills=list(skills), duration_minutes=duration,
        earliest_start=now + timedelta(hours=window[0]),
        deadline=now + timedelta(hours=window[1]), priority=2, status="unassigned",
        created_at=now) for i in range(count)]
    session.add_all(visits)
    session.commit()
    return [v.id for v in visits]


def fall_referral(*, received_at: datetime, patient_id: int | None = None,
                  patient: dict[str, Any] | None = None) -> dict[str, Any]:
    """An urgent fall (2-hour response) from NHS 111, for one patient."""
    body: dict[str, Any] = {
        "source": "111", "referrer": {"name": "NHS 111 call handler", "organisation": "111"},
        "received_at": received_at.isoformat(), "needs": ["fall_no_injury"],
    }
    if patient_id is not None:
        body["patient_id"] = patient_id
    if patient is not None:
        body["patient"] = patient
    return body


def new_patient(serial: int) -> dict[str, Any]:
    """Details for a patient not yet on the register (registered by the referral)."""
    return {"nhs_number": nhs_number(8_000_000 + serial), "given_name": "Ada",
            "family_name": f"Newcomer{serial}", "date_of_birth": "1938-05-17",
            "address": f"{serial + 1} Du Cane Road", "postcode": "W12 0HS"}


# --- HTTP -------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


def call(
    method: str, url: str, *, json_body: Any = None, form: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None, timeout: float = 30,
) -> Reply:
    """One HTTP request with the standard library; errors come back as replies, not raised
    (a refused or reset connection still raises OSError: the caller decides what it means)."""
    data, all_headers = None, dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        all_headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _reply(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as exc:
        return _reply(exc.code, exc.read(), dict(exc.headers))


def _reply(status: int, raw: bytes, headers: dict[str, str]) -> Reply:
    text = raw.decode(errors="replace")
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    return Reply(status, body, headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_sms(base_url: str, auth_token: str, *, from_number: str, body: str) -> Reply:
    """Post a worker's reply to ``/sms/inbound`` signed as Twilio signs it."""
    url = f"{base_url}/sms/inbound"
    params = {"From": from_number, "To": FROM_NUMBER, "Body": body,
              "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(auth_token).compute_signature(url, params)
    return call("POST", url, form=params, headers={"X-Twilio-Signature": signature})


# --- checks -----------------------------------------------------------------------------------

ACTIVE = ("assigned", "offered", "accepted", "en_route", "on_site")


def overlaps(session: so.Session) -> list[tuple[str, str]]:
    """Pairs of active visits of one worker whose [planned_start, +duration) intersect."""
    rows = session.execute(sa.select(
        m.Visit.reference, m.Visit.assigned_staff_id, m.Visit.planned_start,
        m.Visit.duration_minutes).where(m.Visit.status.in_(ACTIVE))).all()
    found = []
    by_staff: dict[int, list[Any]] = {}
    for row in rows:
        by_staff.setdefault(row.assigned_staff_id, []).append(row)
    for visits in by_staff.values():
        visits.sort(key=lambda r: r.planned_start)
        for a, b in zip(visits, visits[1:], strict=False):
            if b.planned_start < a.planned_start + timedelta(minutes=a.duration_minutes):
                found.append((a.reference, b.reference))
    return found


def invalid_visits(session: so.Session) -> list[str]:
    """Visits whose fields contradict their status (beyond what CHECK constraints catch)."""
    problems = []
    for v in session.scalars(sa.select(m.Visit)):
        staffed = v.status in ACTIVE
        if staffed and (v.assigned_staff_id is None or v.planned_start is None):
            problems.append(f"{v.reference}: {v.status} without a worker or a time")
        if v.status == "unassigned" and (v.assigned_staff_id or v.planned_start or v.shift_id):
            problems.append(f"{v.reference}: unassigned but keeps a worker or time")
        if v.status == "offered" and v.offered_at is None:
            problems.append(f"{v.reference}: offered without offered_at")
    return problems


def now_utc() -> datetime:
    """The wall clock, read once per test (then pinned in the processes as FIXED_NOW)."""
    return datetime.now(UTC).replace(microsecond=0)
