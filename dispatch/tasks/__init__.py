"""Planning on workers: a Dramatiq task engine over Redis (issue 18 part 5, ADR 0005).

When ``DISPATCH_TASK_BROKER_URL`` is set, the scheduler's planning jobs send tasks (one per
network, or per plan request or capacity run) and ``dispatch worker`` processes on any number
of machines run them (:mod:`dispatch.tasks.engine`). Unset (the default, and the README's
demo), the jobs plan in-process exactly as before and nothing here is imported.
"""
