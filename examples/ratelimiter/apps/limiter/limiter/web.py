"""The HTTP side: Starlette routes that ask the bucket process (version 1)."""

from __future__ import annotations

from primes_runtime import async_call
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BUCKET = "limiter_bucket"


async def hit(request: Request) -> JSONResponse:
    answer = await async_call(BUCKET, ("hit", request.path_params["client"]))
    assert isinstance(answer, dict)
    return JSONResponse(answer, status_code=200 if answer["allowed"] else 429)


async def stats(request: Request) -> JSONResponse:
    return JSONResponse(await async_call(BUCKET, "stats"))


app = Starlette(routes=[Route("/hit/{client}", hit), Route("/stats", stats)])
