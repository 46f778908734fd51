"""Performance reporting: KPI arithmetic over plain rows, charts (SVG) and CSV export.

Nothing here touches the database or Flask: ``dispatch.services.kpis`` loads a day's rows into
the frozen dataclasses of :mod:`dispatch.reports.types`, and these modules turn them into
numbers (:mod:`~dispatch.reports.metrics`), pictures (:mod:`~dispatch.reports.charts`) and
files (:mod:`~dispatch.reports.export`). That keeps the arithmetic testable on a hand-made day.
"""
