"""axe-core (npm ``axe-core``, a dev dependency) run inside a page, offline and under the CSP.

The script is served to the page from the project's ``node_modules`` at a path on the page's
own origin (a Playwright route answers it from the local file), so the page's
Content-Security-Policy (``script-src 'self'``) admits it without switching the policy off,
and nothing is fetched from the internet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__axe-core__/axe.min.js"  # answered by the route below, never by the app
#: The impacts the quality bar refuses (issue 14): only "minor" findings may remain.
REFUSED_IMPACTS = ("moderate", "serious", "critical")


@dataclass(frozen=True)
class Violation:
    """One axe rule broken on one page, with where (CSS selectors) and why."""

    page: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        where = ", ".join(self.targets[:4]) + (" ..." if len(self.targets) > 4 else "")
        return f"{self.page}: [{self.impact}] {self.rule}: {self.help} ({where})"


def serve_axe(page: Any) -> None:
    """Answer ``AXE_PATH`` on any origin from the local axe-core file."""
    if not AXE_SCRIPT.exists():
        raise FileNotFoundError(f"{AXE_SCRIPT} is missing: run npm ci")
    body = AXE_SCRIPT.read_bytes()
    page.route(f"**{AXE_PATH}", lambda route: route.fulfill(
        status=200, body=body, content_type="application/javascript"))


def violations(page: Any, label: str | None = None) -> list[Violation]:
    """Run axe on the page as it is now; the moderate, serious and critical violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        page.add_script_tag(url=origin + AXE_PATH)
    results = page.evaluate("""async () => {
        const r = await window.axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       targets: v.nodes.map(n => n.target.join(' '))}));
    }""")
    name = label or urlsplit(page.url).path
    return [Violation(name, v["id"], v["impact"] or "", v["help"], tuple(v["targets"]))
            for v in results if v["impact"] in REFUSED_IMPACTS]
