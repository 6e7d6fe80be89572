"""DetectText through the in-process client, on real scans and scene photos."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from candor import Client
from candor.api.model import operation_model
from candor.api.validate import validate

from .conftest import DATA
from .test_imaging import encode, gradient

DOCS = DATA / "text" / "tesseract-docs"
ICDAR = DATA / "text" / "icdar2015-dev"
PHOTOTEST_LINES = [
    line for line in (DOCS / "phototest.txt").read_text().splitlines() if line.strip()
]


@cache
def png(path: Path) -> bytes:
    """The data set's scans are TIFF, which Rekognition (and Candor) refuse: send PNG."""
    buf = io.BytesIO()
    Image.open(path).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def check_output(response: dict[str, Any]) -> None:
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    validate(operation_model("DetectText").output_shape, body)


def lines(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in response["TextDetections"] if d["Type"] == "LINE"]


def words(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in response["TextDetections"] if d["Type"] == "WORD"]


@pytest.fixture(scope="module")
def phototest(client: Client) -> dict[str, Any]:
    return dict(client.detect_text(Image={"Bytes": png(DOCS / "phototest.tif")}))


def test_reads_a_scanned_page_line_by_line(phototest: dict[str, Any]) -> None:
    check_output(phototest)
    assert [d["DetectedText"] for d in lines(phototest)] == PHOTOTEST_LINES
    assert len(words(phototest)) == sum(len(x.split()) for x in PHOTOTEST_LINES)
    assert all(d["Confidence"] > 90 for d in phototest["TextDetections"])
    assert phototest["TextModelVersion"]


def test_ids_and_parents(phototest: dict[str, Any]) -> None:
    detections = phototest["TextDetections"]
    assert [d["Id"] for d in detections] == list(range(len(detections)))
    by_id = {d["Id"]: d for d in detections}
    for line in lines(phototest):
        assert "ParentId" not in line
        children = [w["DetectedText"] for w in words(phototest) if w["ParentId"] == line["Id"]]
        assert " ".join(children) == line["DetectedText"]
    assert all(by_id[w["ParentId"]]["Type"] == "LINE" for w in words(phototest))


def test_geometry(phototest: dict[str, Any]) -> None:
    by_id = {d["Id"]: d for d in phototest["TextDetections"]}
    for d in phototest["TextDetections"]:
        box, polygon = d["Geometry"]["BoundingBox"], d["Geometry"]["Polygon"]
        assert len(polygon) == 4
        for p in polygon:
            assert 0 <= p["X"] <= 1 and 0 <= p["Y"] <= 1
            assert box["Left"] - 1e-9 <= p["X"] <= box["Left"] + box["Width"] + 1e-9
            assert box["Top"] - 1e-9 <= p["Y"] <= box["Top"] + box["Height"] + 1e-9
        if d["Type"] == "WORD":
            parent = by_id[d["ParentId"]]["Geometry"]["BoundingBox"]
            cx, cy = box["Left"] + box["Width"] / 2, box["Top"] + box["Height"] / 2
            assert parent["Left"] <= cx <= parent["Left"] + parent["Width"]
            assert parent["Top"] <= cy <= parent["Top"] + parent["Height"]
    first = lines(phototest)[0]["Geometry"]["BoundingBox"]
    assert first["Top"] < 0.3 and first["Left"] < 0.1  # the page's first line, top left


@pytest.mark.parametrize("name", ["phototest-rotated-L.png", "phototest-rotated-R.png",
                                  "phototest-rotated-180.png"])
def test_rotated_pages_read_in_their_own_order(client: Client, name: str) -> None:
    r = client.detect_text(Image={"Bytes": (DOCS / name).read_bytes()})
    check_output(r)
    assert [d["DetectedText"] for d in lines(r)] == PHOTOTEST_LINES


def test_scene_text(client: Client) -> None:
    r = client.detect_text(Image={"Bytes": (ICDAR / "imgs" / "img_1.jpg").read_bytes()})
    check_output(r)
    found = {w["DetectedText"] for w in words(r)}
    assert {"Theatre", "Carpark"} <= found


def test_word_filter(client: Client, phototest: dict[str, Any]) -> None:
    image = {"Bytes": png(DOCS / "phototest.tif")}
    tall = client.detect_text(
        Image=image, Filters={"WordFilter": {"MinBoundingBoxHeight": 0.5}}
    )
    assert tall["TextDetections"] == []
    wide = client.detect_text(Image=image, Filters={"WordFilter": {"MinBoundingBoxWidth": 0.1}})
    kept = words(wide)
    assert kept and all(w["Geometry"]["BoundingBox"]["Width"] >= 0.1 for w in kept)
    assert len(kept) < len(words(phototest))
    # A line keeps only its remaining words; its text is rebuilt from them.
    for line in lines(wide):
        children = [w["DetectedText"] for w in kept if w["ParentId"] == line["Id"]]
        assert " ".join(children) == line["DetectedText"]
    sure = client.detect_text(Image=image, Filters={"WordFilter": {"MinConfidence": 99.5}})
    assert all(w["Confidence"] >= 99.5 for w in words(sure))


def test_regions_of_interest(client: Client) -> None:
    image = {"Bytes": png(DOCS / "phototest.tif")}
    top = {"BoundingBox": {"Left": 0, "Top": 0, "Width": 1, "Height": 0.3}}
    r = client.detect_text(Image=image, Filters={"RegionsOfInterest": [top]})
    assert [d["DetectedText"] for d in lines(r)] == PHOTOTEST_LINES[:2]
    triangle = {"Polygon": [{"X": 0, "Y": 0}, {"X": 1, "Y": 0}, {"X": 0, "Y": 1}]}
    r = client.detect_text(Image=image, Filters={"RegionsOfInterest": [triangle]})
    for w in words(r):
        box = w["Geometry"]["BoundingBox"]
        assert box["Left"] + box["Width"] / 2 + box["Top"] + box["Height"] / 2 <= 1.0
    assert 0 < len(words(r)) < sum(len(x.split()) for x in PHOTOTEST_LINES)


def test_at_most_100_words(client: Client) -> None:
    page = Image.open(DOCS / "phototest.tif").convert("RGB")
    double = Image.new("RGB", (page.width, page.height * 2), "white")
    double.paste(page, (0, 0))
    double.paste(page, (0, page.height))
    r = client.detect_text(Image={"Bytes": encode(double, "PNG")})
    check_output(r)
    assert len(words(r)) == 100  # of 120 on the page
    assert " ".join(d["DetectedText"] for d in lines(r)) == " ".join(
        w["DetectedText"] for w in words(r)
    )


def test_blank_image_has_no_text(client: Client) -> None:
    r = client.detect_text(Image={"Bytes": encode(Image.new("RGB", (200, 120), "white"), "PNG")})
    assert r["TextDetections"] == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"II*\0" + b"\0" * 100, "InvalidImageFormatException"),
        (encode(gradient(100, 40), "PNG"), "InvalidParameterException"),
    ],
    ids=["tiff", "too-small"],
)
def test_bad_input_gets_rekognition_errors(client: Client, data: bytes, code: str) -> None:
    with pytest.raises(ClientError) as exc:
        client.detect_text(Image={"Bytes": data})
    assert exc.value.response["Error"]["Code"] == code


def test_region_needs_a_shape(client: Client) -> None:
    with pytest.raises(ClientError) as exc:
        client.detect_text(
            Image={"Bytes": png(DOCS / "phototest.tif")},
            Filters={"RegionsOfInterest": [{"Polygon": [{"X": 0, "Y": 0}]}]},
        )
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
