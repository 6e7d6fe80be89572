"""The front process of ``candor serve``: an ASGI app (starlette) served by uvicorn, which does
the HTTP framing; Candor's own part is limits, SigV4, the access log and the worker pool."""
