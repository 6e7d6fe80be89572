"""DetectLabels through the in-process client, on real ImageNet samples and face photos."""

from __future__ import annotations

import csv
import io
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageFilter

from candor import Client, Settings
from candor.api.model import operation_model
from candor.api.validate import validate
from candor.errors import ConfigurationError
from candor.inference.label_taxonomy import load_taxonomy
from candor.inference.pth import read_state_dict

from .conftest import DATA, SMOKE
from .test_imaging import encode, gradient

IMAGENET = DATA / "labels" / "imagenet-dev"
OBAMA = SMOKE / "examples" / "obama.jpg"
# (file, leaf label, parent chain the label must carry), all classified right at > 90%.
SAMPLES = [
    ("n02091244_Ibizan_hound.JPEG", "Ibizan Hound", ["Hound", "Dog", "Canine", "Mammal", "Pet",
                                                     "Animal"]),
    ("n01440764_tench.JPEG", "Tench", ["Fish", "Animal"]),
    ("n02917067_bullet_train.JPEG", "Bullet Train", ["Train", "Transportation"]),
    ("n02391049_zebra.JPEG", "Zebra", ["Mammal", "Animal"]),
]


def image(path: Path) -> dict[str, bytes]:
    return {"Bytes": path.read_bytes()}


def check_output(response: dict[str, Any]) -> None:
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    validate(operation_model("DetectLabels").output_shape, body)


def names(response: dict[str, Any]) -> list[str]:
    return [label["Name"] for label in response["Labels"]]


def test_vocabulary_matches_imagenet_order() -> None:
    tax = load_taxonomy()
    rows = list(csv.DictReader((IMAGENET / "labels.csv").read_text().splitlines()))
    assert len(rows) == 300
    for row in rows:
        assert tax.wnids[int(row["ilsvrc2012_index"])] == row["wnid"]


def test_vocabulary_is_consistent() -> None:
    tax = load_taxonomy()
    leaf_names = [c.name for c in tax.classes]
    assert len(set(leaf_names)) == 1000
    pattern = re.compile(r"[A-Za-z0-9àâèçñó'-_(). ]*")  # what a filter value may hold
    for label in tax.labels.values():
        assert pattern.fullmatch(label.name) and len(label.name) <= 50, label.name
        for parent in label.parents:
            assert parent in tax.labels, (label.name, parent)
            # A parent's own parents are a subset of its child's: the chain is closed.
            assert set(tax.labels[parent].parents) <= set(label.parents), (label.name, parent)
    golden = tax.lookup("golden retriever")
    assert golden is not None
    assert golden.parents[:3] == ("Dog", "Canine", "Mammal") and "Animal" in golden.parents


@pytest.mark.parametrize(("file", "leaf", "chain"), SAMPLES, ids=[s[1] for s in SAMPLES])
def test_labels_with_parent_chain(client: Client, file: str, leaf: str, chain: list[str]) -> None:
    r = client.detect_labels(Image=image(IMAGENET / file))
    check_output(r)
    by_name = {label["Name"]: label for label in r["Labels"]}
    assert leaf in by_name
    assert [p["Name"] for p in by_name[leaf]["Parents"]][: len(chain)] == chain
    assert by_name[leaf]["Categories"]
    for label in r["Labels"]:
        assert label["Confidence"] >= 55
        for parent in label["Parents"]:
            # Every ancestor is reported too, and is at least as confident as its child.
            assert by_name[parent["Name"]]["Confidence"] >= label["Confidence"] - 1e-9
    confidences = [label["Confidence"] for label in r["Labels"]]
    assert confidences == sorted(confidences, reverse=True)
    assert r["LabelModelVersion"]


def test_max_labels_and_min_confidence(client: Client) -> None:
    dog = image(IMAGENET / SAMPLES[0][0])
    everything = client.detect_labels(Image=dog, MinConfidence=0)
    assert len(everything["Labels"]) > 1000  # every class and parent, however unlikely
    top3 = client.detect_labels(Image=dog, MaxLabels=3)["Labels"]
    assert [x["Name"] for x in top3] == names(everything)[:3]
    sure = client.detect_labels(Image=dog, MinConfidence=99.9)["Labels"]
    assert sure and all(x["Confidence"] >= 99.9 for x in sure)
    assert client.detect_labels(Image=dog, MaxLabels=0)["Labels"] == []


def test_label_filters(client: Client) -> None:
    dog = image(IMAGENET / SAMPLES[0][0])

    def run(**general: list[str]) -> list[str]:
        return names(client.detect_labels(Image=dog, Settings={"GeneralLabels": general}))

    assert run(LabelInclusionFilters=["dog", "Zebra"]) == ["Dog"]  # case does not matter
    assert "Animal" not in run(LabelExclusionFilters=["Animal"])
    assert "Dog" in run(LabelExclusionFilters=["Animal"])
    assert run(LabelCategoryInclusionFilters=["Vehicles and Automotive"]) == []
    assert run(LabelCategoryExclusionFilters=["Animals and Pets"]) == []
    both = run(LabelInclusionFilters=["Dog", "Hound"], LabelExclusionFilters=["Hound"])
    assert both == ["Dog"]


def test_person_and_face_instances_from_the_face_detector(client: Client) -> None:
    r = client.detect_labels(Image=image(OBAMA))
    check_output(r)
    by_name = {label["Name"]: label for label in r["Labels"]}
    (face_box,) = [f["BoundingBox"] for f in client.detect_faces(Image=image(OBAMA))["FaceDetails"]]
    for name in ("Person", "Face"):
        (instance,) = by_name[name]["Instances"]
        box = instance["BoundingBox"]
        assert instance["Confidence"] > 90
        assert abs(box["Left"] - face_box["Left"]) < 0.03 and abs(box["Top"] - face_box["Top"]) < 0.03
    assert [p["Name"] for p in by_name["Face"]["Parents"]] == ["Head", "Person"]
    assert "Head" in by_name
    no_people = client.detect_labels(
        Image=image(OBAMA), Settings={"GeneralLabels": {"LabelExclusionFilters": ["Person",
                                                                                 "Face", "Head"]}}
    )
    assert not {"Person", "Face", "Head"} & set(names(no_people))


def test_no_person_in_an_animal_photo(client: Client) -> None:
    assert "Person" not in names(client.detect_labels(Image=image(IMAGENET / SAMPLES[3][0])))


def _png(im: Image.Image) -> dict[str, bytes]:
    return {"Bytes": encode(im, "PNG")}


def test_image_properties_only(client: Client) -> None:
    half = Image.new("RGB", (200, 200), (0, 0, 0))
    half.paste((255, 255, 255), (0, 0, 200, 100))
    r = client.detect_labels(Image=_png(half), Features=["IMAGE_PROPERTIES"])
    check_output(r)
    assert "Labels" not in r
    quality = r["ImageProperties"]["Quality"]
    assert quality["Brightness"] == pytest.approx(50, abs=1)
    assert quality["Contrast"] == pytest.approx(100, abs=1)
    colors = r["ImageProperties"]["DominantColors"]
    assert {c["SimplifiedColor"] for c in colors} == {"black", "white"}
    assert sum(c["PixelPercent"] for c in colors) == pytest.approx(100)


@pytest.mark.parametrize(
    ("rgb", "css", "simple"),
    [((255, 0, 0), "red", "red"), ((0, 0, 255), "blue", "blue"), ((0, 128, 0), "green", "green"),
     ((128, 128, 128), "gray", "grey"), ((255, 165, 0), "orange", "orange")],
)
def test_dominant_color_names(client: Client, rgb: tuple[int, int, int], css: str,
                              simple: str) -> None:
    r = client.detect_labels(Image=_png(Image.new("RGB", (100, 100), rgb)),
                             Features=["IMAGE_PROPERTIES"])
    (color,) = r["ImageProperties"]["DominantColors"]
    assert (color["Red"], color["Green"], color["Blue"]) == rgb
    assert color["HexCode"] == "#{:02x}{:02x}{:02x}".format(*rgb)
    assert color["CSSColor"] == css and color["SimplifiedColor"] == simple
    assert color["PixelPercent"] == pytest.approx(100)


def test_sharpness_and_max_dominant_colors(client: Client) -> None:
    photo = Image.open(IMAGENET / SAMPLES[0][0]).convert("RGB")
    blurred = photo.filter(ImageFilter.GaussianBlur(6))

    def props(im: Image.Image, **settings: Any) -> dict[str, Any]:
        r = client.detect_labels(Image=_png(im), Features=["IMAGE_PROPERTIES"], **settings)
        return dict(r["ImageProperties"])

    assert props(photo)["Quality"]["Sharpness"] > props(blurred)["Quality"]["Sharpness"] + 20
    few = props(photo, Settings={"ImageProperties": {"MaxDominantColors": 2}})
    assert 1 <= len(few["DominantColors"]) <= 2


def test_both_features_give_instance_colors(client: Client) -> None:
    r = client.detect_labels(Image=image(OBAMA), Features=["GENERAL_LABELS", "IMAGE_PROPERTIES"])
    check_output(r)
    face = next(x for x in r["Labels"] if x["Name"] == "Face")
    assert face["Instances"][0]["DominantColors"]
    assert r["ImageProperties"]["DominantColors"]


def test_s3_object(client: Client, settings: Settings) -> None:
    bucket = settings.media_dir / "animals"
    bucket.mkdir(parents=True, exist_ok=True)
    (bucket / "zebra.jpg").write_bytes((IMAGENET / SAMPLES[3][0]).read_bytes())
    r = client.detect_labels(Image={"S3Object": {"Bucket": "animals", "Name": "zebra.jpg"}})
    assert "Zebra" in names(r)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a" + b"\0" * 100, "InvalidImageFormatException"),
        (encode(gradient(60, 60), "PNG"), "InvalidParameterException"),
        (encode(gradient(200, 200), "JPEG")[:300], "InvalidImageFormatException"),
    ],
    ids=["gif", "too-small", "truncated"],
)
def test_bad_input_gets_rekognition_errors(client: Client, data: bytes, code: str) -> None:
    with pytest.raises(ClientError) as exc:
        client.detect_labels(Image={"Bytes": data})
    assert exc.value.response["Error"]["Code"] == code


def test_min_confidence_out_of_range(client: Client) -> None:
    with pytest.raises(ClientError) as exc:
        client.detect_labels(Image=image(OBAMA), MinConfidence=101)
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"


def test_state_dict_reader_refuses_other_callables(tmp_path: Path) -> None:
    """A .pth is a pickle: only the tensor rebuild function and storage types may be named."""

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (print, ("pwned",))

    buf = io.BytesIO()
    for obj in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}, {"w": Evil()}, []):
        pickle.dump(obj, buf, protocol=2)
    path = tmp_path / "evil.pth"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ConfigurationError, match=r"refusing to load .*print"):
        read_state_dict(path)


def test_state_dict_reader_reads_the_real_weights(settings: Settings) -> None:
    from candor.inference.modelfiles import path_for

    weights = read_state_dict(path_for("mobilenet_v2-b0353104.pth", settings.models_dir))
    assert weights["classifier.1.weight"].shape == (1000, 1280)
    assert weights["features.0.0.weight"].dtype == np.float32
    assert weights["features.0.1.num_batches_tracked"].shape == ()
    assert len(weights) == 314
