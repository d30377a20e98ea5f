"""The HTTP side: Starlette routes that ask the bucket process (version 1)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from primes_runtime import async_call
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

BUCKET = "limiter_bucket"


async def hit(request: Request) -> JSONResponse:
    answer = await async_call(BUCKET, ("hit", request.path_params["client"]))
    assert isinstance(answer, dict)
    return JSONResponse(answer, status_code=200 if answer["allowed"] else 429)


async def events(request: Request) -> StreamingResponse:
    """A long-lived stream; when an upgrade leaves it on old code it says so and ends (the
    hand-over hook: the client reconnects and gets the new code)."""
    upgraded = request.scope["extensions"]["primes.upgrade"]["upgraded"]

    async def stream() -> AsyncIterator[str]:
        yield "data: limiter v1\n\n"
        await upgraded.wait()
        yield "event: reconnect\ndata: new code is live, reconnect\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


async def stats(request: Request) -> JSONResponse:
    return JSONResponse(await async_call(BUCKET, "stats"))


app = Starlette(
    routes=[Route("/hit/{client}", hit), Route("/stats", stats), Route("/events", events)]
)
