"""The London-scale benchmark's generator and harness at a tiny scale, so neither can rot
(issue 18 part 6). No timings are asserted: only that the city is what it says and that one
whole run (load, API calls, plans from a process pool, urgent placement) completes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from benchmarks import london_bench, london_city
from dispatch.migrate import upgrade
from dispatch.nhs_numbers import normalise_nhs_number

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=ZoneInfo("Europe/London"))


def test_whole_city_uses_every_district_once() -> None:
    city = london_city.build_city(seed=3, now=NOW)
    districts = [d.outcode for n in city.networks for d in n.districts]
    assert len(districts) == len(set(districts)) == len(london_city.read_districts())
    assert len(city.networks) == london_city.FULL_NETWORKS
    assert len(city.shifts) == london_city.FULL_SHIFTS
    assert len(city.visits) == london_city.FULL_VISITS
    urgent = sum(v.category == "urgent_2h" for v in city.visits) / len(city.visits)
    assert 0.10 < urgent < 0.14
    assert all(v.opens >= NOW and v.deadline > v.opens for v in city.visits)


def test_same_seed_same_city_and_scale_keeps_network_sizes() -> None:
    a = london_city.build_city(seed=5, now=NOW, scale=0.1)
    assert a == london_city.build_city(seed=5, now=NOW, scale=0.1)
    assert a != london_city.build_city(seed=6, now=NOW, scale=0.1)
    whole = {n.code: n for n in london_city.build_city(seed=5, now=NOW).networks}
    assert len(a.networks) == 15
    assert all(whole[n.code] == n for n in a.networks)


def test_register_parts_are_the_same_patients_and_valid() -> None:
    city = london_city.build_city(seed=1, now=NOW, scale=0.02)
    ids = {n.code: i + 1 for i, n in enumerate(city.networks)}
    whole = list(london_city.iter_register(seed=1, city=city, network_ids=ids, first=0,
                                           count=london_city.BLOCK + 50))
    part = list(london_city.iter_register(seed=1, city=city, network_ids=ids,
                                          first=london_city.BLOCK - 5, count=20))
    assert part == whole[london_city.BLOCK - 5: london_city.BLOCK + 15]
    numbers = [p["nhs_number"] for p in whole]
    assert len(set(numbers)) == len(numbers)
    for number in numbers[:500] + numbers[-500:]:
        assert normalise_nhs_number(number) == number
    text = next(london_city.register_text(seed=1, city=city, network_ids=ids, first=0,
                                          count=3))
    assert [line.split("\t")[0] for line in text.splitlines()] == numbers[:3]


@pytest.mark.slow
def test_tiny_run_completes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'london.sqlite3'}"
    upgrade(url)
    said: list[str] = []
    fig = london_bench.run(
        url=url, scale=0.01, seed=1, now=NOW, register=400, baseline_register=200,
        plan_networks=2, processes=[1, 2], seconds=5, solution_limit=10, requests=2, urgent=1,
        urgent_gap=0, say=said.append)
    assert fig.networks == 2 and fig.planned_networks == 2
    assert set(fig.api) == {200, 400}
    assert {"POST /api/referrals", "GET /api/patients?family_name&dob",
            "GET /board/data?network"} <= set(fig.api[400])
    assert [(p.label, p.processes, len(p.results)) for p in fig.passes] == [
        ("solve", 1, 1), ("solve", 2, 1), ("improve", 2, 2)]
    assert all(r.error is None and r.placed > 0 for p in fig.passes for r in p.results)
    assert len(fig.urgent_idle) == 1
    text = london_bench.report(fig, seconds=5)
    assert "city s" in text and "load" in text


@pytest.mark.postgres
def test_a_tiny_round_through_real_workers_completes(tmp_path: Path) -> None:
    """``london_workers_bench``: one worker plans every network of a tiny city from the
    task ledger over Redis, and an urgent referral posted meanwhile gets a decision."""
    import math
    import os

    import redis

    from benchmarks import london_workers_bench

    server = os.environ.get("DISPATCH_TEST_POSTGRES_ADMIN_URL")
    if not server:
        pytest.skip("DISPATCH_TEST_POSTGRES_ADMIN_URL is not set")
    redis_url = os.environ.get("DISPATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {redis_url} is not reachable ({exc})")
        pytest.skip(f"Redis at {redis_url} is not reachable")
    result = london_workers_bench.one_round(
        server=server, redis_url=redis_url, scale=0.02, seed=1, now=NOW, workers=1,
        seconds=0.3, urgent=1, logs=tmp_path)
    assert result.statuses == {"applied": result.networks}
    assert len(result.urgent) == 1 and not math.isnan(result.urgent[0])
    assert "| 1 |" in london_workers_bench.report([result], 0.3)
