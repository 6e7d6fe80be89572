"""uvicorn's h11 protocol with a deadline for a request's head.

uvicorn bounds the size of a request head (``h11_max_incomplete_event_size``) and the idle time
between keep-alive requests, but not how long a client may take to send one head, nor how long a
new connection may stay silent: a client that trickles header bytes could hold a connection for
ever. This closes a connection whose request head has begun but is not complete
``head_deadline`` seconds after it opened or after its last response, and a new connection that
sends nothing for the keep-alive timeout. The body has its own deadline in the app
(:mod:`candor.api.front.app`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_DEADLINE_S = 10.0


class DeadlineH11Protocol(H11Protocol):
    head_deadline = HEAD_DEADLINE_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._partial = False  # bytes of a request head have arrived since the timer was armed
        self._fresh = True  # no request yet on this connection
        self._opened = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened = self.loop.time()
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._partial = True
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        self._fresh = False
        super().on_response_complete()
        self._arm()

    def _arm(self, delay: float | None = None) -> None:
        self._disarm()
        self._partial = False
        self._head_timer = self.loop.call_later(delay or self.head_deadline, self._head_expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        # IDLE: no complete request head since the connection opened or the last response.
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            return
        if self._partial:
            self.transport.close()
        elif self._fresh:  # silent since it opened: give it the keep-alive timeout in all
            left = self.timeout_keep_alive - (self.loop.time() - self._opened)
            if left <= 0:
                self.transport.close()
            else:
                partial_seen = self._partial
                self._arm(min(left, self.head_deadline))
                self._partial = partial_seen
