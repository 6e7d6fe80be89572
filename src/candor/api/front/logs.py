"""JSON-lines logging for the front and the workers: one object per line on stderr."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import datetime, timezone
from typing import Any, TextIO

access_log = logging.getLogger("candor.access")
log = logging.getLogger("candor.server")


class JsonLines(logging.Formatter):
    """One JSON object per line; ``extra={"fields": {...}}`` adds members."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out["message"] = record.getMessage()
        if record.exc_info:
            out["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(out, default=str)


def configure_logging(stream: TextIO | None = None) -> None:
    """Candor's loggers and uvicorn's error logger write JSON lines; uvicorn's own access log
    is off (the front writes a richer one)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines())
    for name in ("candor.access", "candor.server", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO if name.startswith("candor") else logging.WARNING)
        logger.propagate = False
