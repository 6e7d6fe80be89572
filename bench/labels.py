"""DetectLabels on ImageNet-dev (one image for each of 300 classes): top-1 and top-5 accuracy of
the leaf label, latency, and throughput against a bare onnxruntime run of the same network.

    python bench/labels.py [--limit 300]

Accuracy ranks the 1000 class labels of each response (MinConfidence 0) by confidence and
compares with labels.csv. MobileNetV2's published ImageNet-1k validation accuracy is 71.88%
top-1, 90.29% top-5 (torchvision); this sample is one hand-picked, typical image per class, so
expect it to read higher than the 50,000-image validation set.

Bare run: PIL decode, torchvision's resize/crop/normalise written out inline, ``session.run`` on
the same ONNX graph with the same session options. Candor's DetectLabels also runs the face
detector for Person/Face; the second comparison excludes those labels (no face pass) to show
the service's own overhead, the third adds the same face-detector call to the bare run.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from imagebench import DATA, client, interleaved, ms, p90, table

IMAGENET = DATA / "labels" / "imagenet-dev"
NO_FACES = {"GeneralLabels": {"LabelExclusionFilters": ["Person", "Face", "Head"]}}


def bare_classifier(onnx_path: Path) -> tuple[object, object]:
    from candor.inference.onnx import load_session

    session = load_session(onnx_path)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)

    def run(data: bytes) -> np.ndarray:
        import io

        im = Image.open(io.BytesIO(data)).convert("RGB")
        w, h = im.size
        size = (256, int(256 * h / w)) if w <= h else (int(256 * w / h), 256)
        im = im.resize(size, Image.Resampling.BILINEAR)
        left, top = round((size[0] - 224) / 2), round((size[1] - 224) / 2)
        x = np.asarray(im.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255.0
        x = ((x - mean) / std).transpose(2, 0, 1)[None]
        return session.run(None, {"input": np.ascontiguousarray(x)})[0]

    return session, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()

    from candor.imaging import fit_within
    from candor.inference.label_taxonomy import load_taxonomy
    from candor.inference.mobilenet import onnx_path
    from candor.services.labels import FACE_PASS_SIDE

    rek = client()
    rt = rek.runtime
    taxonomy = load_taxonomy()
    leaves = {c.name: i for i, c in enumerate(taxonomy.classes)}
    rows = list(csv.DictReader((IMAGENET / "labels.csv").read_text().splitlines()))[: args.limit]
    images = [(IMAGENET / r["filename"]).read_bytes() for r in rows]

    top1 = top5 = 0
    for row, data in zip(rows, images, strict=True):
        labels = rek.detect_labels(Image={"Bytes": data}, MinConfidence=0, Settings=NO_FACES)
        ranked = [leaves[x["Name"]] for x in labels["Labels"] if x["Name"] in leaves]
        truth = int(row["ilsvrc2012_index"])
        top1 += ranked[0] == truth
        top5 += truth in ranked[:5]
    n = len(rows)

    _, bare = bare_classifier(onnx_path(rt.settings.models_dir))

    def face_pass(data: bytes) -> object:
        import io

        px = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        return rt.faces.detect(fit_within(px, FACE_PASS_SIDE))

    times = interleaved(images, {
        "bare": bare,
        "bare+faces": lambda d: (bare(d), face_pass(d)),
        "candor": lambda d: rek.detect_labels(Image={"Bytes": d}),
        "candor-no-faces": lambda d: rek.detect_labels(Image={"Bytes": d}, Settings=NO_FACES),
    })

    def ratio(base: str, ours: str) -> str:
        return f"{np.mean(times[base]) / np.mean(times[ours]):.2f}×"

    print(f"DetectLabels on ImageNet-dev, {n} images (one per class), MobileNetV2\n")
    print(table(
        ["measure", "Candor", "MobileNetV2 published (ImageNet val)"],
        [["top-1 of leaf label", f"{100 * top1 / n:.1f}%", "71.9%"],
         ["top-5 of leaf label", f"{100 * top5 / n:.1f}%", "90.3%"]],
    ))
    print()
    print(table(
        ["run", "mean ms/image", "p90 ms", "throughput vs bare"],
        [
            ["bare onnxruntime MobileNetV2 (decode + preprocess + run)", ms(times["bare"]),
             p90(times["bare"]), "1.00×"],
            ["Candor DetectLabels, Person/Face/Head excluded (no face pass)",
             ms(times["candor-no-faces"]), p90(times["candor-no-faces"]),
             ratio("bare", "candor-no-faces")],
            ["bare MobileNetV2 + face detector on the same ≤640 px image",
             ms(times["bare+faces"]), p90(times["bare+faces"]), "1.00× (baseline below)"],
            ["Candor DetectLabels, defaults (with Person/Face)", ms(times["candor"]),
             p90(times["candor"]), f"{ratio('bare+faces', 'candor')} of bare+faces"],
        ],
    ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
