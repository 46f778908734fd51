"""Background jobs (APScheduler 3): send SMS, re-optimise, watch deadlines.

They run in exactly one process: ``dispatch scheduler`` takes a leader lock (a PostgreSQL
advisory lock, or a file lock next to a SQLite database) before starting any job, and each job
run also takes a per-job transaction lock, so a second scheduler or a web worker can never run
a job twice at the same time.
"""
