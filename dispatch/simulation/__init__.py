"""``dispatch simulate``: a simulated day of the service, driving the real services.

``day.simulate`` / ``day.compare`` play a day; ``demand`` makes the referrals (with the
derivation of the default volume), ``field`` the staff's behaviour, ``engine`` the event loop,
``policies`` the optimised and nearest-worker dispatch, ``kpis`` the figures and ``report``
the table and HTML charts. ``cli.simulate`` is the click command.
"""
