"""onnxruntime sessions, created the same way for every network."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_session(path: Path) -> Any:
    """A CPU session with one intra-op thread: parallelism comes from worker processes, and
    small networks (MTCNN's) run faster single-threaded than with thread hand-offs."""
    import onnxruntime as ort  # imported on first use: it is slow to import

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
