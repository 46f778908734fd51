"""A fake Nominatim ``/search`` on 127.0.0.1, for driving geopy's real Nominatim client in tests.

It answers from a table of places: a request whose query string mentions a key (a postcode
district such as ``W12``, URL-encoded as sent) gets that place, anything else an empty list,
and a query mentioning ``fail`` a 503. Every request path is kept in :attr:`FakeNominatim.paths`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_plus


class FakeNominatim(ThreadingHTTPServer):
    """The server; ``places`` maps a text found in the query to ``(lat, lon)``."""

    def __init__(self, places: Mapping[str, tuple[float, float]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.places = dict(places)
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/"


class _Handler(BaseHTTPRequestHandler):
    server: FakeNominatim

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.server.paths.append(self.path)
        query = unquote_plus(self.path)
        if "fail" in query:
            self.send_response(503)
            self.end_headers()
            return
        found = [{"lat": str(lat), "lon": str(lon), "display_name": f"{key}, London",
                  "place_id": index}
                 for index, (key, (lat, lon)) in enumerate(self.server.places.items())
                 if key in query][:1]
        body = json.dumps(found).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep test output quiet."""


@contextmanager
def running_nominatim(places: Mapping[str, tuple[float, float]]) -> Iterator[FakeNominatim]:
    """Serve a :class:`FakeNominatim` in a thread for the ``with`` block."""
    server = FakeNominatim(places)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
