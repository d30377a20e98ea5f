"""frontman's request handler: `GET /` answers the miner's largest prime, count and release."""

from __future__ import annotations

import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import primes_runtime.node
from primes_runtime import code_server
from primes_runtime.errors import PrimesError

MINER_API = "pm"


def handle(request: BaseHTTPRequestHandler) -> None:
    """Answer one parsed request; everything is JSON, errors included."""
    path = urlsplit(request.path).path
    if path != "/":
        send_json(request, HTTPStatus.NOT_FOUND, {"error": "not found", "path": path})
    elif request.command not in ("GET", "HEAD"):
        send_json(request, HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use GET", "path": path})
    else:
        status, body = summary()
        send_json(request, status, body)


def summary() -> tuple[HTTPStatus, dict[str, object]]:
    """The miner's numbers and the running release, or 503 if the miner cannot answer."""
    try:
        stats = code_server.current(MINER_API).stats()
    except PrimesError as e:
        return HTTPStatus.SERVICE_UNAVAILABLE, {"error": f"the miner is not answering: {e}"}
    body: dict[str, object] = {
        "largest_prime": stats["largest_prime"],
        "count": stats["count"],
        "release": running_release(),
    }
    return HTTPStatus.OK, body


def running_release() -> str | None:
    """The version of the release the node runs now, or None outside a node."""
    current = primes_runtime.node.current()
    return None if current is None else str(current.release)


def send_error_json(request: BaseHTTPRequestHandler, code: int, message: str | None) -> None:
    """An error the HTTP layer found (bad request line, unknown method, crash) as JSON."""
    status = HTTPStatus(code)
    send_json(request, status, {"error": message or status.phrase})


def send_json(request: BaseHTTPRequestHandler, status: HTTPStatus, body: object) -> None:
    """Send `body` as a JSON response (headers only for HEAD)."""
    data = (json.dumps(body, sort_keys=True) + "\n").encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(data)
