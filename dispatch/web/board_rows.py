"""The board's long lists rendered in one pass: the table rows of the attention and planned
lists and the map's visit dots.

At 1,000 open visits (all networks) these rows were most of the page's template time: a
Jinja loop pays an attribute lookup, a filter call and an escape per cell. Here each row is one
``str.format`` over values escaped once, with the same markup the templates had (the
templates keep the tables' captions and headings, and say where the rows come from).
Every value from the data is escaped (as ``markupsafe.escape`` does); the rest is fixed markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from markupsafe import Markup

from dispatch.services.board import BoardVisit
from dispatch.web.common import CATEGORY_NAMES, clock, countdown
from dispatch.web.drawings import Dot, Row

__all__ = ["attention_rows", "category_name", "map_dots", "map_workers", "planned_rows",
           "timeline_rows"]


def _e(value: object) -> str:
    """``markupsafe.escape`` as a plain str, byte for byte (&, <, >, " and ' escaped): no
    Markup object per cell."""
    return (str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def category_name(code: str | None) -> str:
    """As the ``category_name`` filter: the category in words."""
    return CATEGORY_NAMES.get(code or "", (code or "").replace("_", " "))


class _Clock:
    """``clock(moment, now)`` remembered per moment: many visits share a deadline minute."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.seen: dict[datetime, str] = {}

    def __call__(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        text = self.seen.get(moment)
        if text is None:
            text = self.seen[moment] = clock(moment, self.now)
        return text


_ATTENTION = (
    '<tr class="nhsuk-table__row {css}" data-visit="{ref}">'
    '<td class="nhsuk-table__cell"><strong>{ref}</strong> {district}<br>\n'
    '<span class="nhsuk-body-s">{category}</span></td>'
    '<td class="nhsuk-table__cell">{tag}{staff}{pair}</td>'
    '<td class="nhsuk-table__cell app-nowrap">{deadline}<br>\n'
    '<span class="app-countdown{overdue}" data-deadline="{iso}">{left}</span></td>'
    '<td class="nhsuk-table__cell"><a href="{href}">{action}<span class="nhsuk-u-visually-hidden">'
    ' visit {ref}</span></a></td></tr>\n')


def attention_rows(visits: Iterable[BoardVisit], now: datetime,
                   href: Callable[[int], str]) -> Markup:
    """The rows of the "Needs attention" table (jeopardy, then unassigned)."""
    hm = _Clock(now)
    out = []
    for v in visits:
        category = category_name(v.category)
        if v.reason:
            category = f"{category}: {v.reason}"
        tag = (f'<strong class="nhsuk-tag nhsuk-tag--red">{_e(v.cause_text)}</strong>'
               if v.cause else '<strong class="nhsuk-tag nhsuk-tag--yellow">Unassigned</strong>')
        out.append(_ATTENTION.format(
            css="app-row--jeopardy" if v.cause else "app-row--unassigned",
            ref=_e(v.reference), district=_e(v.district), category=_e(category),
            tag=tag,
            staff=f'<br><span class="nhsuk-body-s">{_e(v.staff_name)}</span>'
            if v.staff_name else "",
            pair=f'<br><span class="nhsuk-body-s app-pair">{_e(v.pair)}</span>'
            if v.pair else "",
            deadline=_e(hm(v.deadline)),
            overdue=" app-countdown--overdue" if v.minutes_left < 0 else "",
            iso=_e(v.deadline.isoformat()), left=_e(countdown(v.minutes_left)),
            href=_e(href(v.id)), action="Assign" if v.status == "unassigned" else "Change"))
    return Markup("".join(out))


_PLANNED = (
    '<tr class="nhsuk-table__row" data-visit="{ref}">'
    '<td class="nhsuk-table__cell"><strong>{ref}</strong> {district} '
    '<span class="nhsuk-body-s">{category}</span></td>'
    '<td class="nhsuk-table__cell">{staff}{pair}{pinned}</td>'
    '<td class="nhsuk-table__cell">{status}</td>'
    '<td class="nhsuk-table__cell app-nowrap">{planned}</td>'
    '<td class="nhsuk-table__cell app-nowrap">{deadline} '
    '<span class="app-countdown" data-deadline="{iso}">{left}</span></td>'
    '<td class="nhsuk-table__cell"><a href="{href}">Change<span class="nhsuk-u-visually-hidden">'
    ' visit {ref}</span></a></td></tr>\n')


def planned_rows(visits: Iterable[BoardVisit], now: datetime,
                 href: Callable[[int], str]) -> Markup:
    """The rows of the "Planned and under way" table."""
    hm = _Clock(now)
    out = []
    for v in visits:
        out.append(_PLANNED.format(
            ref=_e(v.reference), district=_e(v.district),
            category=_e(category_name(v.category)), staff=_e(v.staff_name or ""),
            pair=f'<br><span class="nhsuk-body-s app-pair">{_e(v.pair)}</span>'
            if v.pair else "",
            pinned=' <span class="nhsuk-tag nhsuk-tag--grey">pinned</span>' if v.pinned else "",
            status=_e(v.status.replace("_", " ")), planned=_e(hm(v.planned_start)),
            deadline=_e(hm(v.deadline)), iso=_e(v.deadline.isoformat()),
            left=_e(countdown(v.minutes_left)), href=_e(href(v.id))))
    return Markup("".join(out))


_CIRCLE = ('<circle class="app-map-visit {css}" cx="{x}" cy="{y}" r="{r}" data-visit="{ref}">'
           '<title>{title}</title></circle>\n')
_PATH = ('<path class="app-map-visit {css}" d="{d}" data-visit="{ref}"><title>{title}</title>'
         '</path>\n')
#: Shapes as well as colours (never colour alone): jeopardy a diamond, unassigned a square,
#: the rest circles (on site larger, closed smaller).
_RADIUS = {"app-map-visit--on-site": 6, "app-map-visit--planned": 5, "app-map-visit--closed": 4}


def _shape(d: Dot) -> str:
    ref, title, css = _e(d.reference), _e(d.title), _e(d.css)
    if d.css == "app-map-visit--jeopardy":
        path = f"M{d.x:.1f} {d.y - 8:.1f}l8 8-8 8-8-8z"
    elif d.css == "app-map-visit--unassigned":
        path = f"M{d.x - 5:.1f} {d.y - 5:.1f}h10v10h-10z"
    else:
        return _CIRCLE.format(css=css, x=d.x, y=d.y, r=_RADIUS.get(d.css, 5), ref=ref,
                              title=title)
    return _PATH.format(css=css, d=path, ref=ref, title=title)


def map_dots(dots: Iterable[Dot]) -> Markup:
    """The map's visit markers in drawing order: a shape per state, each with its title."""
    return Markup("".join(_shape(d) for d in dots))


_WORKER = ('<path class="app-map-worker" d="M{x:.1f} {top:.1f}l7 13h-14z"><title>{title}</title>'
           '</path>\n')


def map_workers(dots: Iterable[Dot]) -> Markup:
    """Workers on shift now: triangles, each titled with who and where."""
    return Markup("".join(_WORKER.format(x=d.x, top=d.y - 8, title=_e(d.title))
                          for d in dots))


LABEL_CHARACTERS = 26  # as Jinja's truncate(26, true, "…"): cut only past 26 + 5 characters


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARACTERS + 5 else text[:LABEL_CHARACTERS - 1] + "…"


def timeline_rows(rows: Iterable[Row]) -> Markup:
    """The timelines' rows (a label, the shift, then its bars), as the template drew them."""
    out = []
    for row in rows:
        out.append(
            f'<g class="app-tl-row"><text class="app-tl-label" x="4" y="{row.y + 17}"><title>'
            f'{_e(row.title)}</title>{_e(_label(row.label))}</text>'
            f'<rect class="{_e(row.shift.css)}" x="{row.shift.x}" y="{row.y + 4}" '
            f'width="{row.shift.width}" height="18"><title>{_e(row.shift.title)}</title></rect>')
        for bar in row.bars:
            travel = "travel" in bar.css
            out.append(
                f'<rect class="{_e(bar.css)}" x="{bar.x}" y="{row.y + (8 if travel else 4)}" '
                f'width="{bar.width}" height="{10 if travel else 18}"><title>{_e(bar.title)}'
                '</title></rect>')
        out.append("</g>\n")
    return Markup("".join(out))
