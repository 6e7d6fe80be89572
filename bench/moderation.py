"""DetectModerationLabels on photos with no nudity: how many get an explicit-nudity label
(goal 0), and latency against a bare onnxruntime run of NudeNet 320n.

    python bench/moderation.py [--lfw-step 1]

Sets: every LFW-dev image, the two smoke sets, and the 300 ImageNet-dev samples. The confidence
mapping (50 at NudeNet score 0.75) was chosen after looking at every third LFW-dev image and at
ImageNet-dev, so the "held out" LFW row (the other two thirds) is the independent check.

Bare run: PIL decode, NudeNet's own padding and resize written out inline, ``session.run`` with
the same session options. Both are timed on the ImageNet-dev images, interleaved.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from imagebench import DATA, client, interleaved, ms, p90, table

FACES = DATA / "faces"
IMAGENET = DATA / "labels" / "imagenet-dev"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lfw-step", type=int, default=1, help="use every Nth LFW-dev image")
    args = parser.parse_args()

    rek = client()
    lfw = sorted((FACES / "lfw-dev" / "images").rglob("*.jpg"))
    sets: dict[str, list[Path]] = {
        "LFW-dev, held out (2 of every 3 images)": [p for i, p in enumerate(lfw) if i % 3][
            :: args.lfw_step],
        "LFW-dev, looked at (every third image)": lfw[:: 3 * args.lfw_step],
        "smoke-face_recognition + smoke-deepface": sorted(
            p for d in ("smoke-face_recognition", "smoke-deepface")
            for p in (FACES / d).rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
        ),
        "ImageNet-dev (looked at)": sorted(IMAGENET.glob("*.JPEG")),
    }
    rows = []
    for name, paths in sets.items():
        explicit = any_label = errors = 0
        for path in paths:
            try:
                r = rek.detect_moderation_labels(Image={"Bytes": path.read_bytes()})
            except (rek.exceptions.InvalidParameterException,
                    rek.exceptions.InvalidImageFormatException):
                errors += 1  # under 80 px, or not JPEG/PNG (one smoke "jpg" is WebP)
                continue
            tops = {m["Name"] for m in r["ModerationLabels"] if m["TaxonomyLevel"] == 1}
            explicit += "Explicit" in tops
            any_label += bool(tops)
        rows.append([name, len(paths) - errors, explicit, any_label])
    print("DetectModerationLabels on photos without nudity (MinConfidence 50, the default)\n")
    print(table(["set", "images", "with an Explicit label (goal 0)", "with any label"], rows))

    from candor.inference.modelfiles import path_for
    from candor.inference.onnx import load_session

    session = load_session(path_for("nudenet_320n.onnx", rek.runtime.settings.models_dir))

    def bare(data: bytes) -> object:
        import cv2

        px = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        side = max(px.shape[:2])
        square = np.zeros((side, side, 3), dtype=np.uint8)
        square[: px.shape[0], : px.shape[1]] = px
        x = cv2.resize(square, (320, 320)).astype(np.float32).transpose(2, 0, 1)[None] / 255.0
        return session.run(None, {session.get_inputs()[0].name: x})

    images = [p.read_bytes() for p in sets["ImageNet-dev (looked at)"]]
    times = interleaved(images, {
        "bare": bare,
        "candor": lambda d: rek.detect_moderation_labels(Image={"Bytes": d}),
    })
    ratio = np.mean(times["bare"]) / np.mean(times["candor"])
    print()
    print(table(["run", "mean ms/image", "p90 ms", "throughput vs bare"], [
        ["bare onnxruntime NudeNet 320n (decode + pad/resize + run)", ms(times["bare"]),
         p90(times["bare"]), "1.00×"],
        ["Candor DetectModerationLabels", ms(times["candor"]), p90(times["candor"]),
         f"{ratio:.2f}×"],
    ]))
    print(f"\n{len(images)} ImageNet-dev images, about 500×375.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
