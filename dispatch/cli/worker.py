"""``dispatch worker``: run planning tasks sent through the task broker (issue 18 part 5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dispatch.cli.common import app, configure_logging, fail

if TYPE_CHECKING:
    from flask import Flask

HEARTBEAT_SECONDS = 10.0


@click.command()
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Tasks run at once by this process (solves are CPU-bound: one a core).")
@click.option("--queues", default="place,plan,capacity", show_default=True,
              help="Comma-separated queues to take: place (new visits), plan "
              "(re-optimisation, plan requests), capacity (capacity studies).")
def worker(threads: int, queues: str) -> None:
    """Run planning tasks (placement, re-optimisation, plan requests, capacity studies) sent by
    the scheduler through the broker in DISPATCH_TASK_BROKER_URL. Run as many as needed, on as
    many machines as needed; SIGTERM finishes the tasks in hand, then stops."""
    import signal
    import threading

    from dispatch.tasks.engine import QUEUES, engine_for, ping, worker_name

    configure_logging()
    chosen = {q.strip() for q in queues.split(",") if q.strip()}
    if not chosen or chosen - set(QUEUES):
        fail(f"--queues: choose among {', '.join(QUEUES)}")
    flask_app = app()
    engine = engine_for(flask_app)
    if engine is None:
        fail("no task broker configured: set DISPATCH_TASK_BROKER_URL=redis://host:6379/0 "
             "(without it the scheduler plans in-process and no worker is needed)")
    problem = ping(flask_app.config)
    if problem is not None:
        fail(f"the task broker does not answer: {problem}", code=1)

    import dramatiq

    from routing.solver import isolate_searches

    # Searches run in forked children and this process waits on a pipe, so the consumers keep
    # talking to Redis (the broker's heartbeat) however long a solve takes.
    isolate_searches()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runner = dramatiq.Worker(engine.broker, queues=chosen, worker_threads=threads)
    # Hold only the tasks being run (Dramatiq prefetches two a thread): solves are long, so a
    # held task would wait behind one, and a dead worker strands only what it was running.
    runner.queue_prefetch = threads
    runner.start()
    name = worker_name()
    click.echo(f"worker {name} running: queues {','.join(sorted(chosen))}, {threads} "
               f"thread(s) (SIGTERM stops)")
    try:
        while not stop.is_set():
            _heartbeat(flask_app, name)
            stop.wait(HEARTBEAT_SECONDS)
    finally:
        click.echo(f"worker {name} stopping: finishing the tasks in hand")
        runner.stop()


def _heartbeat(flask_app: Flask, name: str) -> None:
    """One row per worker in ``job_heartbeats`` (``worker:<host>:<pid>``): ``/metrics`` shows
    its lag like a job's and ``dispatch doctor`` counts the live ones."""
    import logging

    from dispatch.clock import wall_clock
    from dispatch.db import get_database
    from dispatch.services import operations

    try:
        with get_database(flask_app).session_scope() as session:
            operations.record_worker(session, name=name, now=wall_clock())
    except Exception:
        logging.getLogger(__name__).exception("worker heartbeat not recorded")
