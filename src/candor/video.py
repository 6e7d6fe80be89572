"""Stored video → metadata and sampled RGB frames, through PyAV (FFmpeg).

Timestamps come from each frame's presentation time, so variable-frame-rate video gets the times
its frames are shown at; rotation metadata (phone video) is applied, so pixels and reported sizes
are as the video is displayed. Anything FFmpeg cannot open or decode is a :class:`VideoError`
whose message says so (a job's StatusMessage), never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Containers Rekognition takes (MPEG-4, MOV) and the others this decoder reads as well.
FORMATS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "mkv", "avi": "avi"}
# Frames that stop this long (plus 2% of the stated duration) before the end: a truncated file.
TRUNCATED_AFTER_S = 1.0


class VideoError(Exception):
    """The file is not a video that can be analysed; the message says why."""


@dataclass(frozen=True)
class VideoInfo:
    """Rekognition's VideoMetadata."""

    codec: str
    format: str
    duration_millis: int
    frame_rate: float
    frame_width: int
    frame_height: int
    color_range: str  # FULL or LIMITED

    @property
    def duration_seconds(self) -> float:
        return self.duration_millis / 1000.0


@dataclass(frozen=True)
class Frame:
    timestamp_millis: int
    index: int  # the frame's number in decode order, from 0
    pixels: NDArray[np.uint8]  # H×W×3 RGB, as displayed


def _av_errors() -> tuple[type[BaseException], ...]:
    import av

    return (av.error.FFmpegError, ValueError, IndexError, OSError)


def _open(path: Path) -> Any:
    import av

    # FFmpeg's own log lines would interleave with the JSON log; its errors reach the caller
    # as VideoError messages instead.
    av.logging.set_level(av.logging.PANIC)

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except _av_errors() as exc:
        raise VideoError(f"the file is not a video this service can decode: {_why(exc)}") from None
    if not container.streams.video:
        container.close()
        raise VideoError("the file holds no video stream")
    return container


def _why(exc: BaseException) -> str:
    """FFmpeg's reason without the file name (which would name a path on the server)."""
    return str(getattr(exc, "strerror", None) or type(exc).__name__)


def _rotation(frame: Any) -> int:
    """Quarter turns counter-clockwise that display the frame upright (np.rot90's k)."""
    degrees = int(getattr(frame, "rotation", 0) or 0)
    return round(degrees / 90) % 4


def probe(path: Path, *, max_seconds: float) -> VideoInfo:
    """The video's metadata, read from its headers and its first frame."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        fmt = FORMATS.get(container.format.name)
        if fmt is None:
            raise VideoError(
                f"container format {container.format.name!r} is not supported; use MP4, MOV, "
                "MKV or AVI"
            )
        rate = float(stream.average_rate or stream.guessed_rate or 0)
        seconds = _stated_seconds(container, stream)
        if seconds > max_seconds:
            raise VideoError(
                f"the video is {seconds:,.0f} s long; the limit is {max_seconds:,.0f} s"
            )
        try:
            first = next(container.decode(stream))
        except StopIteration:
            raise VideoError("the video stream holds no frames") from None
        except _av_errors() as exc:
            raise VideoError(f"the video could not be decoded: {_why(exc)}") from None
        width, height = first.width, first.height
        if _rotation(first) % 2:
            width, height = height, width
        return VideoInfo(
            codec=stream.codec_context.name,
            format=fmt,
            duration_millis=round(seconds * 1000),
            frame_rate=rate,
            frame_width=width,
            frame_height=height,
            color_range="FULL" if int(first.color_range or 0) == 2 else "LIMITED",
        )
    finally:
        container.close()


def sample(path: Path, *, rate: float) -> Iterator[Frame]:
    """Frames at ``rate`` per second of presentation time (the first frame at or after each
    tick), as RGB pixels the right way up."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        step = 1.0 / rate
        due = 0.0
        start: float | None = None  # the first frame's presentation time is the video's 0
        for index, frame in enumerate(_decode(container, stream)):
            shown = float(frame.time) if frame.time is not None else index * step
            start = shown if start is None else start
            t = max(0.0, shown - start)
            if t + 1e-6 < due:
                continue
            due = (int(t / step + 1e-6) + 1) * step
            pixels = frame.to_ndarray(format="rgb24")
            k = _rotation(frame)
            if k:
                pixels = np.ascontiguousarray(np.rot90(pixels, k))
            yield Frame(timestamp_millis=round(t * 1000), index=index, pixels=pixels)
        stated = _stated_seconds(container, stream)
        shown_until = 0.0 if start is None else t
        if stated - shown_until > TRUNCATED_AFTER_S + 0.02 * stated:
            raise VideoError(
                f"the video's frames stop at {shown_until:,.1f} s of its stated {stated:,.1f} s; "
                "the file looks truncated: upload it again"
            )
    finally:
        container.close()


def _stated_seconds(container: Any, stream: Any) -> float:
    """The duration the container states (0 when it states none)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / 1_000_000)
    return 0.0


def _decode(container: Any, stream: Any) -> Iterator[Any]:
    frames = container.decode(stream)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except _av_errors() as exc:
            raise VideoError(f"the video stopped decoding part-way: {_why(exc)}") from None
        yield frame
