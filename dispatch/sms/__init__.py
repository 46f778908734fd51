"""SMS for dispatch: what texts say (``compose``), reading replies (``replies``), the
provider backends (``sender``: Twilio or the local outbox), handling replies (``inbound``) and
escalating failures (``escalation``). The outbox job itself is ``dispatch.services.outbox``.

``compose`` and ``replies`` are pure (plain values in and out); the rest touch the database.
"""
