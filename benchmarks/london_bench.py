"""London at scale (issue 18 part 6): plan the whole city, urgent placement while it re-plans,
database size and the main API calls against a 9-million-patient register.

    .venv/bin/python benchmarks/london_bench.py --scale 0.1            # quick, ~5 min
    .venv/bin/python benchmarks/london_bench.py --scale 1 --plan-networks 30
    # --postgres URL: the server to create a fresh database on (dropped afterwards; --keep)
    # --sqlite: a temporary SQLite file instead (the register is then small: --register)

The day is :mod:`benchmarks.london_city` (every London postcode district; about 150
networks, 2,500 shifts, 30,000 visits at scale 1, 12 % urgent). Steps, in one run:

1. Load the city, the first ``--baseline-register`` patients (default 100,000) and the day.
2. The main API calls through the real app (Flask test client, no socket; bearer tokens, and
   a signed-in coordinator for the board's poll): ``GET /healthz`` (the baseline: one
   ``SELECT 1``), ``POST /api/referrals`` (a registered patient by NHS number), patient look-up
   by NHS number and by family name + date of birth (the handler's search), ``GET
   /api/visits?network=`` and ``GET /board/data?network=``. p50/p95 in ms.
3. Load the rest of the register (``--register``, default 9,000,000 x scale), ANALYZE, and the
   same calls again: the ratio to the 100,000 register is the cost of the size.
4. Plan the networks (all of them, or ``--plan-networks`` of them evenly spread over the city,
   then extrapolated to the city, saying so) through the real pipeline
   (:func:`dispatch.planning.pipeline.run`: read, solve, apply, in short transactions) from a
   pool of 1 and then 2 processes (``--processes``); the first plan of the day from scratch
   (``solve``), ``--seconds`` a network (the re-optimiser's default, 3 s). Each pool size
   plans its own interleaved share of the networks from the unassigned morning (a second
   from-scratch plan over the first one's offers would be different work: it moves offers).
   Wall and CPU seconds per network are both kept: CPU is what a network costs a quiet core.
5. Urgent referrals (2-hour falls) posted through the API and placed by the placer's own call
   (:func:`dispatch.planning.pipeline.place_new`, ``insert``, the placer's 1 s, and its
   rescue re-optimisation, ``PLACE_RESCUE_SECONDS``, when the insertion cannot fit one) first
   with the city idle (the baseline), then while the city is re-optimised (``improve``) by
   the largest pool: time from the POST to the placer's decision. Each run, placement or
   re-optimisation, holds its network's planning lock, so a placement into a network being
   re-optimised waits for that run.
6. Database size (whole database, the patients table with its indexes).

The planner is a :class:`Planner`: here :class:`ProcessPoolPlanner` (one process a network at
a time, on this machine). The distributed workers (issue 18 part 5) can be measured with the
same harness by giving it a planner that sends each :class:`PlanJob` as a task and yields the
:class:`PlanResult` back; nothing else changes.

Every figure is printed with the load average (1 minute) at its start and end: the machine
is shared.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
from benchmarks import london_city  # noqa: E402
from dispatch.config import DEFAULTS  # noqa: E402
from dispatch.database import Database  # noqa: E402
from dispatch.migrate import upgrade  # noqa: E402
from dispatch.models import Patient, Visit  # noqa: E402
from dispatch.planning import pipeline  # noqa: E402
from dispatch.planning.retries import PlacementRetries  # noqa: E402
from routing.errors import RoutingInfeasible  # noqa: E402
from routing.providers import make_provider  # noqa: E402

LONDON = ZoneInfo("Europe/London")
PASSWORD = "london-bench-password-1"
NEEDS = ["wound_care", "catheter_care", "personal_care", "fall_no_injury"]


def load() -> float:
    return os.getloadavg()[0]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# -- planning -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanJob:
    """Plan one network: what a distributed worker would be sent."""

    network_id: int
    method: pipeline.Method
    seconds: float
    now: str
    solution_limit: int | None = None


@dataclass(frozen=True, slots=True)
class PlanResult:
    network_id: int
    visits: int
    placed: int
    seconds: float
    #: CPU seconds of the worker and of the search processes it started: what the network
    #: costs on a quiet machine, whatever the load here.
    cpu: float = 0.0
    error: str | None = None


class Planner(Protocol):
    """Runs plan jobs somewhere and yields their results as they finish."""

    def run(self, jobs: Sequence[PlanJob]) -> Iterator[PlanResult]: ...


_DATABASE: Database | None = None


def _init_worker(url: str) -> None:
    global _DATABASE
    _DATABASE = Database(url)


def plan_network(job: PlanJob) -> PlanResult:
    """One network through the real pipeline (read, solve, apply; short transactions)."""
    assert _DATABASE is not None, "worker not initialised"
    started, cpu = time.perf_counter(), _cpu()
    try:
        report = pipeline.run(
            pipeline.ShortTransactions(_DATABASE), now=datetime.fromisoformat(job.now),
            provider=make_provider(None), network_id=job.network_id,
            options=pipeline.Options(method=job.method, seconds=job.seconds,
                                     solution_limit=job.solution_limit,
                                     relax="on_infeasible"))
    except RoutingInfeasible as exc:
        return PlanResult(job.network_id, 0, 0, time.perf_counter() - started,
                          _cpu() - cpu, str(exc))
    return PlanResult(job.network_id, report.visits, report.placed,
                      time.perf_counter() - started, _cpu() - cpu)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the search processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class ProcessPoolPlanner:
    """``processes`` local processes, each with its own engine, one network at a time."""

    url: str
    processes: int

    def run(self, jobs: Sequence[PlanJob]) -> Iterator[PlanResult]:
        with ProcessPoolExecutor(max_workers=self.processes, initializer=_init_worker,
                                 initargs=(self.url,)) as pool:
            yield from pool.map(plan_network, jobs)


@dataclass
class Pass:
    label: str
    processes: int
    wall: float
    results: list[PlanResult]
    load_before: float
    load_after: float

    @property
    def per_network(self) -> list[float]:
        return [r.seconds for r in self.results]


def plan_pass(planner: Planner, label: str, processes: int, jobs: Sequence[PlanJob]) -> Pass:
    before = load()
    started = time.perf_counter()
    results = list(planner.run(jobs))
    return Pass(label, processes, time.perf_counter() - started, results, before, load())


# -- the API ------------------------------------------------------------------------------


@dataclass
class Api:
    """The real app on the bench database, with a call handler's and a coordinator's tokens
    and a signed-in coordinator (the board)."""

    url: str
    now: datetime
    app: Any = None
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    board: Any = None
    serial: int = 0

    def start(self) -> None:
        from dispatch import create_app
        from dispatch.db import get_database
        from dispatch.services.users import add_user

        self.app = create_app({"DATABASE_URL": self.url, "FIXED_NOW": self.now.isoformat(),
                               "SECRET_KEY": "london-bench", "WTF_CSRF_ENABLED": False})
        database = get_database(self.app)
        with database.session_scope() as session:
            for role in ("call_handler", "coordinator"):
                token = add_user(session, username=f"bench-{role}-{uuid.uuid4().hex[:6]}",
                                 role=role, now=self.now, password=PASSWORD,
                                 all_networks=True if role == "coordinator" else None).token
                self.headers[role] = {"Authorization": f"Bearer {token}"}
            coordinator = add_user(session, username=f"bench-board-{uuid.uuid4().hex[:6]}",
                                   role="coordinator", now=self.now, password=PASSWORD,
                                   all_networks=True)
            board_name = coordinator.user.username
        self.board = self.app.test_client()
        reply = self.board.post("/sign-in", data={"username": board_name, "password": PASSWORD})
        assert reply.status_code == 303, reply.status_code

    def referral(self, nhs_number: str, need: str) -> Any:
        self.serial += 1
        body = {"source": "111", "referrer": {"name": "london bench"},
                "received_at": (self.now - timedelta(minutes=1)).isoformat(),
                "needs": [need], "patient": {"nhs_number": nhs_number}}
        reply = self.app.test_client().post(
            "/api/referrals", json=body,
            headers={**self.headers["call_handler"],
                     "Idempotency-Key": f"london-{uuid.uuid4().hex}"})
        assert reply.status_code == 201, (reply.status_code, reply.json)
        return reply.json


def sample_patients(database: Database, register: int, n: int,
                    rng: random.Random) -> list[tuple[str, str, str, int]]:
    """``n`` patients at random over the register: NHS number, family name, born, network."""
    ids = [rng.randint(1, register) for _ in range(n)]
    with database.session_scope() as session:
        rows = session.execute(sa.select(Patient.nhs_number, Patient.family_name,
                                         Patient.date_of_birth, Patient.network_id)
                               .where(Patient.id.in_(ids))).all()
    return [(str(r[0]), r[1], r[2].isoformat(), int(r[3] or 0)) for r in rows]


def measure_api(api: Api, patients: Sequence[tuple[str, str, str, int]], network_ids:
                Sequence[int], n: int, rng: random.Random) -> dict[str, tuple[float, float]]:
    """p50 and p95 (ms) of each call, ``n`` times each after a short warm-up."""
    client = api.app.test_client()
    handler, coordinator = api.headers["call_handler"], api.headers["coordinator"]

    def get(path: str, headers: dict[str, str]) -> Callable[[], Any]:
        return lambda: client.get(path, headers=headers)

    calls: dict[str, Callable[[int], Any]] = {
        "GET /healthz (baseline)": lambda i: client.get("/healthz"),
        "POST /api/referrals": lambda i: api.referral(patients[i % len(patients)][0],
                                                      rng.choice(NEEDS[:3])),
        "GET /api/patients?nhs_number": lambda i: get(
            f"/api/patients?nhs_number={patients[i % len(patients)][0]}", handler)(),
        "GET /api/patients?family_name&dob": lambda i: get(
            f"/api/patients?family_name={patients[i % len(patients)][1]}"
            f"&date_of_birth={patients[i % len(patients)][2]}", handler)(),
        "GET /api/visits?network": lambda i: get(
            f"/api/visits?network={network_ids[i % len(network_ids)]}&limit=200",
            coordinator)(),
        "GET /board/data?network": lambda i: api.board.get(
            f"/board/data?network={network_ids[i % len(network_ids)]}"),
    }
    figures = {}
    for name, call in calls.items():
        for i in range(3):
            _ok(call(i))
        times = []
        for i in range(n):
            t = time.perf_counter()
            _ok(call(i + 3))
            times.append((time.perf_counter() - t) * 1000)
        figures[name] = (statistics.median(times), percentile(times, 0.95))
    return figures


def _ok(reply: Any) -> None:
    status = getattr(reply, "status_code", 200)
    assert status in (200, 201), status


# -- urgent placement ---------------------------------------------------------------------


def place_urgent(api: Api, database: Database, patient: tuple[str, str, str, int],
                 retries: PlacementRetries) -> float:
    """POST an urgent fall for ``patient`` and run the placer for its network; the seconds
    from the POST to the placer's decision on it (the apply that offered it, or put it in
    jeopardy): positive if the visit was assigned, negative if it went to jeopardy for a
    person to decide (no room), ``nan`` if neither. The placer goes on with the network's
    routine visits after that decision (H-244); that time is not counted.
    ``retries`` is the placer's memory (visits tried in the last minute are not retried)."""
    started = time.perf_counter()
    body = api.referral(patient[0], "fall_no_injury")
    visit_id = body["visits"][0]["id"]
    decided: list[float] = []

    def note_decision(session: Any, *_args: Any) -> None:
        if not decided:
            status, cause = session.execute(sa.select(Visit.status, Visit.jeopardy_cause)
                                            .where(Visit.id == visit_id)).one()
            if status != "unassigned" or cause is not None:
                decided.append(time.perf_counter())

    pipeline.place_new(pipeline.ShortTransactions(database), now=api.now,
                       provider=make_provider(None), network_ids=[patient[3]],
                       retries=retries, after_apply=(*pipeline.AFTER_APPLY, note_decision),
                       options=pipeline.Options(
                           method="insert", seconds=float(DEFAULTS["PLACE_SECONDS"]),
                           rescue_seconds=float(DEFAULTS["PLACE_RESCUE_SECONDS"])))
    elapsed = (decided[0] if decided else time.perf_counter()) - started
    with database.session_scope() as session:
        status, cause = session.execute(sa.select(Visit.status, Visit.jeopardy_cause)
                                        .where(Visit.id == visit_id)).one()
    if status != "unassigned":
        return elapsed
    # Not placed: the placer's decision was cover or jeopardy (no room), recorded as negative.
    return -elapsed if cause is not None else float("nan")


def urgent_while(api: Api, database: Database, patients: Sequence[tuple[str, str, str, int]],
                 busy: threading.Thread | None, count: int, gap: float) -> list[float]:
    """``count`` urgent placements, ``gap`` seconds apart; while ``busy`` runs, if given.

    The placer runs as it does in steady state: the visits already unassigned (dropped by
    the plans) were tried within the last minute, so only the new referral is inserted."""
    with database.session_scope() as session:
        retries = PlacementRetries()
        retries.tried(session.scalars(sa.select(Visit.id).where(Visit.status == "unassigned")),
                      api.now)
    times = []
    for i in range(count):
        if busy is not None and not busy.is_alive():
            break
        times.append(place_urgent(api, database, patients[i % len(patients)], retries))
        time.sleep(gap)
    return times


# -- the database -------------------------------------------------------------------------


def fresh_postgres(server: str) -> tuple[str, Callable[[], None]]:
    name = f"london_bench_{os.getpid()}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def sizes(database: Database) -> dict[str, int]:
    if database.engine.dialect.name != "postgresql":
        path = database.engine.url.database
        return {"database": os.path.getsize(path) if path else 0}
    with database.session_scope() as session:
        return {
            "database": int(session.scalar(sa.text("SELECT pg_database_size(current_database())"))),
            "patients (with indexes)": int(session.scalar(sa.text(
                "SELECT pg_total_relation_size('patients')"))),
            "patients indexes": int(session.scalar(sa.text(
                "SELECT pg_indexes_size('patients')"))),
            "visits (with indexes)": int(session.scalar(sa.text(
                "SELECT pg_total_relation_size('visits')"))),
        }


# -- the run ------------------------------------------------------------------------------


@dataclass
class Figures:
    """Everything one run measured (printed by :func:`report`)."""

    scale: float
    networks: int
    shifts: int
    visits: int
    register: int
    baseline_register: int
    load_s: dict[str, float] = field(default_factory=dict)
    api: dict[int, dict[str, tuple[float, float]]] = field(default_factory=dict)
    api_load: dict[int, tuple[float, float]] = field(default_factory=dict)
    passes: list[Pass] = field(default_factory=list)
    planned_networks: int = 0
    urgent_idle: list[float] = field(default_factory=list)
    urgent_busy: list[float] = field(default_factory=list)
    urgent_load: dict[str, tuple[float, float]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


def run(*, url: str, scale: float, seed: int, now: datetime, register: int,
        baseline_register: int, plan_networks: int | None, processes: Sequence[int],
        seconds: float, solution_limit: int | None, requests: int, urgent: int,
        urgent_gap: float, say: Callable[[str], None] = print) -> Figures:
    """One whole run on a migrated, empty database at ``url``."""
    rng = random.Random(seed)
    city = london_city.build_city(seed=seed, now=now, scale=scale)
    database = Database(url)
    fig = Figures(scale, len(city.networks), len(city.shifts), len(city.visits), register,
                  min(baseline_register, register))
    t = time.perf_counter()
    ids = london_city.load_city(database.engine, city)
    london_city.load_register(database.engine, city=city, network_ids=ids, first=0,
                              count=fig.baseline_register)
    london_city.load_day(database.engine, city=city, network_ids=ids)
    _analyze(database)
    fig.load_s["city, first register, day"] = time.perf_counter() - t
    say(f"loaded {len(city.networks)} networks, {len(city.shifts)} shifts, "
        f"{len(city.visits)} visits, {fig.baseline_register:,} patients in "
        f"{fig.load_s['city, first register, day']:.1f} s (load {load():.1f})")
    api = Api(url, now)
    api.start()
    network_list = sorted(ids.values())
    sizes_seen = [fig.baseline_register] + ([register] if register > fig.baseline_register
                                            else [])
    for size in sizes_seen:
        if size > fig.baseline_register:
            t = time.perf_counter()
            london_city.load_register(database.engine, city=city, network_ids=ids,
                                      first=fig.baseline_register,
                                      count=size - fig.baseline_register)
            _analyze(database)
            fig.load_s[f"register to {size:,}"] = time.perf_counter() - t
            say(f"register loaded to {size:,} in {fig.load_s[f'register to {size:,}']:.1f} s "
                f"(load {load():.1f})")
        patients = sample_patients(database, size, max(requests, 20), rng)
        before = load()
        fig.api[size] = measure_api(api, patients, network_list, requests, rng)
        fig.api_load[size] = (before, load())
        say(f"API at {size:,} patients measured (load {before:.1f} -> {load():.1f})")
    fig.sizes = sizes(database)
    # Planning: the networks, evenly spread over the city when only some are planned.
    chosen = network_list
    if plan_networks is not None and plan_networks < len(network_list):
        step = len(network_list) / plan_networks
        chosen = [network_list[int(i * step)] for i in range(plan_networks)]
    fig.planned_networks = len(chosen)
    # Each pool size plans its own share of the sample (interleaved, so each share is spread
    # over the city too) from the unassigned morning: the same kind of work, never a second
    # plan over the first one's offers.
    for k, p in enumerate(processes):
        share = chosen[k::len(processes)]
        jobs = [PlanJob(n, "solve", seconds, now.isoformat(), solution_limit) for n in share]
        fig.passes.append(plan_pass(ProcessPoolPlanner(url, p), "solve", p, jobs))
        say(f"planned {len(share)} networks from scratch with {p} process(es) in "
            f"{fig.passes[-1].wall:.1f} s (load {fig.passes[-1].load_before:.1f} -> "
            f"{fig.passes[-1].load_after:.1f})")
    # Urgent placement: idle city, then while the city is re-optimised.
    urgent_patients = [p for p in sample_patients(database, fig.baseline_register, 400, rng)
                       if p[3] in set(chosen)]
    before = load()
    fig.urgent_idle = urgent_while(api, database, urgent_patients, None, urgent, urgent_gap)
    fig.urgent_load["idle"] = (before, load())
    busy_processes = max(processes)
    jobs = [PlanJob(n, "improve", seconds, now.isoformat(), solution_limit) for n in chosen]
    holder: list[Pass] = []
    busy = threading.Thread(target=lambda: holder.append(
        plan_pass(ProcessPoolPlanner(url, busy_processes), "improve", busy_processes, jobs)))
    before = load()
    busy.start()
    time.sleep(min(2.0, seconds))  # let the pool start its first solves
    fig.urgent_busy = urgent_while(api, database, urgent_patients[urgent:] or urgent_patients,
                                   busy, urgent, urgent_gap)
    fig.urgent_load["busy"] = (before, load())
    busy.join()
    fig.passes.extend(holder)
    say(f"re-optimised while placing {len(fig.urgent_busy)} urgent referrals "
        f"(load {before:.1f} -> {load():.1f})")
    database.dispose()
    return fig


def _analyze(database: Database) -> None:
    with database.engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()


def quiet_core(results: Sequence[PlanResult], seconds: float) -> float:
    """What a network would cost a quiet core, mean over ``results``: the search's whole budget
    (it stops on the wall clock, so on a loaded machine it gets only a share of a core) plus
    the rest of the work (read, start-up plan, apply) in CPU seconds. The rest is the job's CPU
    less its share of the search: the job ran at ``cpu / wall`` of a core on average, so its
    search used about ``seconds * cpu / wall`` of CPU."""
    rest = [max(0.0, r.cpu - seconds * r.cpu / r.seconds) for r in results if r.seconds > 0]
    return seconds + (statistics.mean(rest) if rest else 0.0)


def report(fig: Figures, *, seconds: float) -> str:
    lines = [f"scale {fig.scale:g}: {fig.networks} networks, {fig.shifts} shifts, "
             f"{fig.visits} visits; register {fig.register:,} (baseline "
             f"{fig.baseline_register:,}); {os.cpu_count()} cores", ""]
    sizes_seen = sorted(fig.api)
    header = "| call | " + " | ".join(f"p50 / p95 ms at {s:,}" for s in sizes_seen)
    if len(sizes_seen) == 2:
        header += " | p95 ratio"
    lines += [header + " |", "|---" * (len(sizes_seen) + 1 + (len(sizes_seen) == 2)) + "|"]
    for name in fig.api[sizes_seen[0]]:
        cells = [f"{fig.api[s][name][0]:.1f} / {fig.api[s][name][1]:.1f}" for s in sizes_seen]
        if len(sizes_seen) == 2:
            a, b = fig.api[sizes_seen[0]][name][1], fig.api[sizes_seen[1]][name][1]
            cells.append(f"{b / a:.2f}x")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("load average (1 min) at start -> end: " + ", ".join(
        f"{s:,}: {fig.api_load[s][0]:.1f} -> {fig.api_load[s][1]:.1f}" for s in sizes_seen))
    lines.append("")
    lines.append("| database | MiB |")
    lines.append("|---|---|")
    lines += [f"| {k} | {v / 2**20:,.0f} |" for k, v in fig.sizes.items()]
    lines.append("load times: " + ", ".join(f"{k} {v:.0f} s" for k, v in fig.load_s.items()))
    lines.append("")
    lines.append(f"planning {fig.planned_networks} of {fig.networks} networks, {seconds:g} s "
                 "search a network; 'city s' = wall x city networks / networks planned"
                 + (" (extrapolated)" if fig.planned_networks < fig.networks else ""))
    lines.append("| pass | processes | networks | wall s | city s | per network wall mean / p95 s "
                 "| per network CPU mean / p95 s | quiet core s a network | visits | placed "
                 "| errors | load start -> end |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for p in fig.passes:
        per, cpu = p.per_network, [r.cpu for r in p.results]
        lines.append(
            f"| {p.label} | {p.processes} | {len(p.results)} | {p.wall:.1f} | "
            f"{p.wall * fig.networks / max(1, len(p.results)):.0f} | "
            f"{statistics.mean(per):.2f} / {percentile(per, 0.95):.2f} | "
            f"{statistics.mean(cpu):.2f} / {percentile(cpu, 0.95):.2f} | "
            f"{quiet_core(p.results, seconds):.1f} | "
            f"{sum(r.visits for r in p.results)} | {sum(r.placed for r in p.results)} | "
            f"{sum(1 for r in p.results if r.error)} | {p.load_before:.1f} -> "
            f"{p.load_after:.1f} |")
    lines.append("")
    lines.append("| urgent referral, POST to assigned | n | assigned | p50 s | p95 s | max s "
                 "| load start -> end |")
    lines.append("|---|---|---|---|---|---|---|")
    for label, times in (("city idle (baseline)", fig.urgent_idle),
                         ("while the city is re-optimised", fig.urgent_busy)):
        placed = [t for t in times if t == t and t > 0]
        decided = [abs(t) for t in times if t == t]
        key = "idle" if times is fig.urgent_idle else "busy"
        if placed:
            lines.append(f"| {label} | {len(times)} | {len(placed)} | "
                         f"{statistics.median(placed):.2f} | {percentile(placed, 0.95):.2f} | "
                         f"{max(placed):.2f} | {fig.urgent_load[key][0]:.1f} -> "
                         f"{fig.urgent_load[key][1]:.1f} |")
        else:
            lines.append(f"| {label} | {len(times)} | 0 | - | - | - | - |")
        if len(decided) > len(placed):
            lines.append(f"| {label}: decided (assigned or jeopardy) | {len(times)} | "
                         f"{len(decided) - len(placed)} to jeopardy | "
                         f"{statistics.median(decided):.2f} | {percentile(decided, 0.95):.2f} "
                         f"| {max(decided):.2f} | |")
    return "\n".join(lines)


def city_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every London benchmark takes: the city, its day and the server."""
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--date", default="2026-12-01", help="the day (a weekday)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                        "postgres", help="server URL; a fresh database is made and dropped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    city_arguments(parser)
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--register", type=int, default=None,
                        help="patients (default 9,000,000 x scale)")
    parser.add_argument("--baseline-register", type=int, default=100_000)
    parser.add_argument("--plan-networks", type=int, default=None,
                        help="plan only this many networks, evenly spread, and extrapolate")
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--seconds", type=float, default=float(DEFAULTS["REOPTIMISE_SECONDS"]))
    parser.add_argument("--requests", type=int, default=100, help="per API call and size")
    parser.add_argument("--urgent", type=int, default=20, help="urgent referrals, each phase")
    parser.add_argument("--urgent-gap", type=float, default=1.0)
    args = parser.parse_args()
    now = datetime.fromisoformat(args.date).replace(hour=8, tzinfo=LONDON)
    register = args.register if args.register is not None else int(9_000_000 * args.scale)
    if args.sqlite:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'london.sqlite3'}"
        drop: Callable[[], None] = lambda: None  # noqa: E731
    else:
        url, drop = fresh_postgres(args.postgres)
    try:
        upgrade(url)
        fig = run(url=url, scale=args.scale, seed=args.seed, now=now, register=register,
                  baseline_register=args.baseline_register, plan_networks=args.plan_networks,
                  processes=[int(p) for p in args.processes.split(",")],
                  seconds=args.seconds, solution_limit=None, requests=args.requests,
                  urgent=args.urgent, urgent_gap=args.urgent_gap)
        print(report(fig, seconds=args.seconds))
    finally:
        if not args.keep:
            drop()


if __name__ == "__main__":
    main()
