"""Helpers shared by the image-analysis benchmarks (labels, text, moderation): data paths, the
in-process client on bench/out/candor-data, timing and markdown tables.

Latency and throughput are measured one image at a time in one process, each onnxruntime
session on one thread (as a ``candor serve`` worker runs it), Candor and the bare run
interleaved image by image so both see the same machine load.
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CANDOR_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "bench" / "out"


def client() -> Any:
    from candor import Client, Settings

    return Client(settings=Settings(data_dir=OUT / "candor-data"))


def png_bytes(path: Path) -> bytes:
    """JPEG and PNG files as they are; anything else (the scans are TIFF) re-encoded as PNG."""
    data = path.read_bytes()
    if data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n":
        return data
    buf = io.BytesIO()
    Image.open(path).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def interleaved(
    items: Sequence[Any], runs: dict[str, Callable[[Any], Any]], warmup: int = 2
) -> dict[str, list[float]]:
    """Seconds per item for each named run, alternating runs item by item."""
    for item in items[:warmup]:
        for run in runs.values():
            run(item)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for item in items:
        for name, run in runs.items():
            start = time.perf_counter()
            run(item)
            times[name].append(time.perf_counter() - start)
    return times


def ms(values: Sequence[float]) -> str:
    return f"{1000 * statistics.mean(values):.1f}"


def p90(values: Sequence[float]) -> str:
    ordered = sorted(values)
    return f"{1000 * ordered[int(0.9 * (len(ordered) - 1))]:.1f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, characters."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
