"""The capacity planner: how many staff a network needs to meet the 2-hour standard.

``dispatch capacity plan`` and ``POST /api/capacity-plans`` call :func:`search.plan`, which
plays simulated days (:mod:`dispatch.simulation`, the real planner and field model) with
candidate staffings and keeps the cheapest that met the target on every day it played.
"""
