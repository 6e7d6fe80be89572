"""Face tracks across sampled frames, by motpy's Kalman-filter multi-object tracker.

Each face box of a frame gets an Index that stays the same while the tracker follows it (a
constant-position Kalman filter per face, matched by box overlap); a track not seen for a few
sampled frames ends. :meth:`FaceTracks.cut` ends every track (a new shot
starts), so one Index never spans a cut; indices keep counting up over the whole video.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from candor.types import BoundingBox

MAX_STALE_FRAMES = 3  # sampled frames a track survives unseen
MIN_IOU = 0.1  # sampled frames are ~0.5 s apart: faces move


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


class FaceTracks:
    def __init__(self, frame_interval: float) -> None:
        self.dt = frame_interval
        self.next_index = 0
        self.indices: dict[str, int] = {}
        self._new_tracker()

    def _new_tracker(self) -> None:
        from motpy import MultiObjectTracker

        self.tracker = MultiObjectTracker(
            dt=self.dt,
            # Constant position: at a few frames a second a face's motion is jitter more than
            # velocity, and extrapolating it carries the box off the face.
            model_spec={"order_pos": 0, "dim_pos": 2, "order_size": 0, "dim_size": 2},
            tracker_kwargs={"max_staleness": MAX_STALE_FRAMES},
            matching_fn_kwargs={"min_iou": MIN_IOU},
            active_tracks_kwargs={"min_steps_alive": -1, "max_staleness": MAX_STALE_FRAMES},
        )

    def cut(self) -> None:
        """A shot boundary: no track continues past it."""
        self._new_tracker()

    def assign(self, boxes: Sequence[BoundingBox]) -> list[int]:
        """The Index of each box of this frame (boxes as ratios of the frame)."""
        from motpy import Detection

        corners = [
            np.array([b.left, b.top, b.left + b.width, b.top + b.height]) for b in boxes
        ]
        tracks = self.tracker.step([Detection(box=c, score=1.0) for c in corners])
        out = []
        taken: set[str] = set()
        for c in corners:
            best = max(
                (t for t in tracks if t.id not in taken),
                key=lambda t: _iou(c, np.asarray(t.box)),
                default=None,
            )
            if best is None or _iou(c, np.asarray(best.box)) <= 0:
                out.append(self._fresh())
                continue
            taken.add(best.id)
            if best.id not in self.indices:
                self.indices[best.id] = self._fresh()
            out.append(self.indices[best.id])
        return out

    def _fresh(self) -> int:
        self.next_index += 1
        return self.next_index - 1
