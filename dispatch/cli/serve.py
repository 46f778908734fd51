"""``dispatch serve`` and ``dispatch scheduler``: the web service and the background jobs."""

from __future__ import annotations

import click

from dispatch.cli.common import app, configure_logging, fail


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--upgrade/--no-upgrade",
    default=True,
    show_default=True,
    help="Apply pending migrations before serving.",
)
@click.option(
    "--jobs/--no-jobs",
    default=True,
    show_default=True,
    help="Also run the background jobs in this process (if no scheduler runs).",
)
@click.option(
    "--demo-activity/--no-demo-activity",
    default=False,
    show_default=True,
    help="Play live demo activity with the jobs: synthetic 111 referrals and staff SMS replies "
    "(refused when ENV is production).",
)
def serve(host: str, port: int, upgrade: bool, jobs: bool, demo_activity: bool) -> None:
    """Serve the web app and API (threaded server, for the demo), with the jobs in-process."""

    from dispatch import migrate
    from dispatch.db import get_database
    from dispatch.jobs.lock import LeaderLock
    from dispatch.jobs.runner import build_scheduler

    configure_logging()
    flask_app = app()
    if demo_activity:
        from dispatch.simulation.live_demo import DemoActivityRefused, refuse_in_production

        try:
            refuse_in_production(flask_app.config)
        except DemoActivityRefused as exc:
            fail(str(exc))
        flask_app.config["DEMO_ACTIVITY"] = True
    if upgrade:
        migrate.upgrade(flask_app.config["DATABASE_URL"])
    if jobs:
        lock = LeaderLock(get_database(flask_app).engine)
        if lock.acquire():
            from routing.solver import isolate_searches

            isolate_searches()  # keep solves off this process's GIL: requests stay fast
            build_scheduler(flask_app, blocking=False).start()
            click.echo("background jobs running in this process")
        else:
            click.echo("another scheduler holds the lock; this process serves web requests only")
    click.echo(f"serving on http://{host}:{port}  (API docs at /api/docs)")
    flask_app.run(host=host, port=port, threaded=True, use_reloader=False, debug=False)


@click.command()
@click.option(
    "--standby-seconds",
    default=5.0,
    show_default=True,
    type=float,
    help="While another scheduler runs, how often to try to take over.",
)
def scheduler(standby_seconds: float) -> None:
    """Run the background jobs (SMS sender, planner, deadline watch) in this process only.

    Exactly one scheduler runs jobs: a second one waits on standby until the first stops.
    """
    import time

    from dispatch.db import get_database
    from dispatch.jobs.lock import LeaderLock
    from dispatch.jobs.runner import build_scheduler, start_listener

    configure_logging()
    flask_app = app()
    lock = LeaderLock(get_database(flask_app).engine)
    announced = False
    while not lock.acquire():
        if not announced:
            click.echo("another scheduler is running; standing by", err=True)
            announced = True
        time.sleep(standby_seconds)
    click.echo("scheduler running (Ctrl-C stops)")
    jobs = build_scheduler(flask_app, blocking=True)
    listener = start_listener(flask_app)  # PostgreSQL: the web's wake-ups arrive at once
    try:
        jobs.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if listener is not None:
            listener.stop()
        lock.release()
