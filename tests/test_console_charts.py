"""The console's drawings as data: the DET curve, video timelines, and image sizes."""

from __future__ import annotations

import struct
import zlib

from candor.console.app import _image_size
from candor.console.charts import det_points, fmr_text, timeline_of


def test_det_curve_points_sit_on_log_axes_and_shared_marks_share_a_label() -> None:
    curve = [(t, 10.0 ** -(t / 20), min(1.0, t / 100)) for t in range(0, 101)]
    curve[90] = (90.0, 1e-6, 0.9)
    curve[95] = (95.0, 1e-6, 0.9)  # the same point as 90
    det = det_points(curve)
    assert len(det["points"].split()) == 101
    first = det["points"].split()[0]
    assert first == "550.0,350.0"  # FMR 1 at the right, FNMR 0 drawn at the bottom edge
    labels = {m["t"] for m in det["marks"]}
    assert "90/95" in labels and "80" in labels
    assert [t["label"] for t in det["xticks"]] == ["1", "1e-1", "1e-2", "1e-3", "1e-4", "1e-5",
                                                   "1e-6"]
    assert det_points([(80.0, None, None)])["points"] == ""  # no pairs: nothing drawn


def test_timelines_gap_shots_and_name_the_tracks_found_in_the_collection() -> None:
    meta = {"VideoMetadata": {"DurationMillis": 10_000}}
    shots = [
        {"Type": "SHOT", "StartTimestampMillis": 0, "EndTimestampMillis": 4000,
         "StartTimecodeSMPTE": "00:00:00:00", "EndTimecodeSMPTE": "00:00:04:00"},
        {"Type": "SHOT", "StartTimestampMillis": 4000, "EndTimestampMillis": 10_000,
         "StartTimecodeSMPTE": "00:00:04:00", "EndTimecodeSMPTE": "00:00:10:00"},
    ]
    lanes = timeline_of("GetSegmentDetection", meta, shots)["lanes"]
    (a, b) = lanes["Shots"]
    assert (a["x"], a["w"], b["x"], b["w"]) == (0.0, 398.0, 400.0, 598.0)
    assert a["alt"] != b["alt"]
    persons = [
        {"Timestamp": 500, "Person": {"Index": 0}, "FaceMatches": []},
        {"Timestamp": 1000, "Person": {"Index": 1},
         "FaceMatches": [{"Face": {"ExternalImageId": "singer"}}]},
    ]
    named = timeline_of("GetFaceSearch", {"VideoMetadata": [meta["VideoMetadata"]]},
                        persons)["lanes"]
    assert list(named) == ["Track 0", "Track 1 · singer"]
    labels = timeline_of("GetLabelDetection", {},
                         [{"Timestamp": 0, "Label": {"Name": "Person"}},
                          {"Timestamp": 500, "Label": {"Name": "Person"}},
                          {"Timestamp": 500, "Label": {"Name": "Chair"}}])
    assert list(labels["lanes"]) == ["Person", "Chair"]  # most frequent first
    assert labels["duration_ms"] == 500.0  # no metadata: the last timestamp


def test_rates_read_as_one_in_n() -> None:
    assert fmr_text(1e-4) == "1 in 10,000"
    assert fmr_text(0.7) == "70%"
    assert fmr_text(0.0) == "0"


def test_image_size_follows_exif_orientation_and_refuses_bombs_quietly() -> None:
    def png_header(width: int, height: int) -> bytes:
        def chunk(kind: bytes, body: bytes) -> bytes:
            return (struct.pack(">I", len(body)) + kind + body
                    + struct.pack(">I", zlib.crc32(kind + body)))
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")

    import io

    from PIL import Image

    small = io.BytesIO()
    Image.new("RGB", (30, 20)).save(small, "PNG")
    assert _image_size(small.getvalue()) == (30, 20)
    turned = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated a quarter turn
    Image.new("RGB", (30, 20)).save(turned, "JPEG", exif=exif)
    assert _image_size(turned.getvalue()) == (20, 30)
    assert _image_size(png_header(100_000, 100_000)) is None  # a decompression bomb: not drawn
    assert _image_size(b"not an image") is None
