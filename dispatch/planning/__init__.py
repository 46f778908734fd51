"""Planning: the database's open visits and shifts turned into a routing problem and back.

``problem.py`` builds a :class:`routing.types.RoutingProblem` from rows; ``apply.py`` writes a
plan's assignments back through the visit state machine; ``runs.py`` stores solves as ``Plan``
rows. The solver itself lives in ``routing/`` and knows nothing of the database.
"""
