"""What console pages draw, as plain data for the templates: the DET curve's SVG coordinates,
a video job's timeline lanes, and how rates read."""

from __future__ import annotations

import math
from typing import Any


def fmr_text(fmr: float) -> str:
    if fmr >= 0.5:
        return f"{fmr:.0%}"
    return f"1 in {round(1 / fmr):,}" if fmr > 0 else "0"


def pct(value: float | None, digits: int = 3) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}%}"


def det_points(curve: list[tuple[float, float | None, float | None]]) -> dict[str, Any]:
    """The DET curve as SVG coordinates: FMR on a log axis (1e-6..1) across, FNMR on a log axis
    (1e-4..1) up, in a 600×400 box with 50 px margins."""

    def x(fmr: float) -> float:
        return 50 + 500 * (math.log10(max(fmr, 1e-6)) + 6) / 6

    def y(fnmr: float) -> float:
        return 350 - 300 * (math.log10(max(fnmr, 1e-4)) + 4) / 4

    points: list[str] = []
    marks: dict[tuple[float, float], list[str]] = {}  # thresholds at one point share a label
    for t, fmr, fnmr in curve:
        if fmr is None or fnmr is None:
            continue
        points.append(f"{x(fmr):.1f},{y(fnmr):.1f}")
        if t in (80, 90, 95, 99):
            marks.setdefault((round(x(fmr), 1), round(y(fnmr), 1)), []).append(str(int(t)))
    xticks = [{"x": round(x(10.0**-k), 1), "label": f"1e-{k}" if k else "1"} for k in range(7)]
    yticks = [{"y": round(y(10.0**-k), 1), "label": f"1e-{k}" if k else "1"} for k in range(5)]
    return {
        "points": " ".join(points),
        "marks": [{"x": px, "y": py, "t": "/".join(ts)} for (px, py), ts in marks.items()],
        "xticks": xticks,
        "yticks": yticks,
    }


def timeline_of(getter: str, first: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """Lanes of spans on a 1000-wide time axis: shots, face tracks (face search), sampled
    detections (faces, text, moderation) or labels."""
    meta = (first.get("VideoMetadata") or [{}])
    duration = float((meta[0] if isinstance(meta, list) else meta).get("DurationMillis") or 0)
    if not duration:
        duration = float(max((i.get("Timestamp") or i.get("EndTimestampMillis") or 0
                              for i in items), default=0)) or 1.0

    def at(ms: float) -> float:
        return round(1000 * min(max(ms, 0.0), duration) / duration, 1)

    lanes: dict[str, list[dict[str, Any]]] = {}
    if getter == "GetSegmentDetection":
        for n, s in enumerate(items):
            if s.get("Type") == "SHOT":
                name = "Shots"
            else:
                name = str(s.get("TechnicalCueSegment", {}).get("Type", "Cue"))
            width = at(s["EndTimestampMillis"]) - at(s["StartTimestampMillis"])
            lanes.setdefault(name, []).append({
                "x": at(s["StartTimestampMillis"]),
                "w": max(width - 2.0, 1.0),  # a gap shows each cut
                "alt": n % 2,  # neighbouring shots in two colours
                "title": f"{s.get('StartTimecodeSMPTE')} → {s.get('EndTimecodeSMPTE')}",
            })
    elif getter == "GetFaceSearch":
        tracks: dict[int, list[int]] = {}
        names: dict[int, str] = {}
        for p in items:
            index = int(p["Person"]["Index"])
            tracks.setdefault(index, []).append(int(p["Timestamp"]))
            for m in p.get("FaceMatches") or []:
                names.setdefault(index, m["Face"].get("ExternalImageId") or "a match")
        for index, stamps in sorted(tracks.items())[:40]:
            name = f"Track {index}" + (f" · {names[index]}" if index in names else "")
            lanes[name] = [{"x": at(t), "w": 4.0, "title": f"{t} ms"} for t in stamps]
    else:
        for item in items:
            if "Label" in item:
                name = str(item["Label"].get("Name"))
            elif "ModerationLabel" in item:
                name = str(item["ModerationLabel"].get("Name"))
            elif "TextDetection" in item:
                name = "Text"
            else:
                name = "Faces"
            lanes.setdefault(name, []).append(
                {"x": at(float(item.get("Timestamp", 0))), "w": 4.0,
                 "title": f"{item.get('Timestamp')} ms"})
        lanes = dict(sorted(lanes.items(), key=lambda kv: -len(kv[1]))[:20])
    ticks = [{"x": at(duration * k / 10), "label": f"{duration * k / 10000:.1f} s"}
             for k in range(11)]
    return {"lanes": lanes, "duration_ms": duration, "ticks": ticks}
