"""Shot boundaries, by PySceneDetect's ContentDetector (HSV content change between frames) over
every frame, decoded by PyAV.

Confidence: the detector scores each frame's change in content; a cut is declared where the score
passes its threshold (27). Confidence maps that score linearly, the threshold to 80 and twice the
threshold (or more) to 100, so Rekognition's default ``MinSegmentConfidence`` (80) keeps every
cut the detector declares and a stricter filter keeps the sharper cuts. A video's first shot,
which starts at its first frame rather than at a cut, has Confidence 100.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

THRESHOLD = 27.0


@dataclass(frozen=True)
class ShotSegment:
    index: int
    confidence: float


@dataclass(frozen=True)
class Segment:
    """Rekognition's Segment of type SHOT; frames are numbered from 0, the end inclusive."""

    start_frame_number: int
    end_frame_number: int
    start_timestamp_millis: int
    end_timestamp_millis: int
    start_timecode_smpte: str
    end_timecode_smpte: str
    duration_smpte: str
    shot_segment: ShotSegment
    type: str = "SHOT"

    @property
    def duration_millis(self) -> int:
        return self.end_timestamp_millis - self.start_timestamp_millis

    @property
    def duration_frames(self) -> int:
        return self.end_frame_number - self.start_frame_number + 1


def smpte(frame: int, fps: float) -> str:
    """HH:MM:SS:FF (non-drop-frame) for a frame number."""
    per_second = max(1, round(fps))
    seconds, frames = divmod(frame, per_second)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}"


def confidence(score: float | None) -> float:
    if score is None:
        return 100.0
    return round(min(100.0, 80.0 + 20.0 * (score - THRESHOLD) / THRESHOLD), 3)


@functools.cache
def _scored_content_detector() -> type:
    from scenedetect import ContentDetector

    class ScoredContentDetector(ContentDetector):  # type: ignore[misc]
        """ContentDetector keeping each frame's score. A StatsManager would keep them too, but
        makes the detector compute every frame's edge map (a third of the time), which its
        default weights leave out of the score."""

        def __init__(self, threshold: float) -> None:
            super().__init__(threshold=threshold)
            self.scores: dict[int, float] = {}

        def _calculate_frame_score(self, timecode: Any, frame_img: Any) -> float:
            score: float = super()._calculate_frame_score(timecode, frame_img)
            self.scores[timecode.frame_num] = score
            return score

    return ScoredContentDetector


def detect_shots(path: Path, fps: float | None = None) -> Iterator[Segment]:
    """The video's shots in order."""
    from scenedetect import SceneManager, open_video

    video = open_video(str(path), backend="pyav", threading_mode="AUTO")
    rate = float(fps or video.frame_rate)
    detector = _scored_content_detector()(threshold=THRESHOLD)
    manager = SceneManager()
    manager.add_detector(detector)
    manager.detect_scenes(video, show_progress=False)
    for index, (start, end) in enumerate(manager.get_scene_list(start_in_scene=True)):
        first, last = start.frame_num, max(start.frame_num, end.frame_num - 1)
        score = detector.scores.get(first) if first > 0 else None
        yield Segment(
            start_frame_number=first,
            end_frame_number=last,
            start_timestamp_millis=round(first * 1000 / rate),
            end_timestamp_millis=round((last + 1) * 1000 / rate),
            start_timecode_smpte=smpte(first, rate),
            end_timecode_smpte=smpte(last + 1, rate),
            duration_smpte=smpte(last + 1 - first, rate),
            shot_segment=ShotSegment(index=index, confidence=confidence(score)),
        )
