"""DetectText accuracy and speed: word recall and character error rate on ICDAR 2015 scene photos
(icdar2015-dev) and scanned pages (tesseract-docs, including one page rotated three ways), next
to RapidOCR — the PP-OCR pipeline that ships the same ONNX files — as the bare reference.

    pip install --no-deps shapely          # RapidOCR's own post-processing needs it (bench only)
    python bench/text.py

ICDAR: a ground-truth word (``###`` = unreadable, ignored) is recalled end to end when a WORD
detection has the same text (case and surrounding punctuation ignored) and its box overlaps the
word's by IoU ≥ 0.5; CER pairs each word with its best-overlapping detection. Bag-of-words
recall ignores location, so RapidOCR's lines (it has no word boxes) can be scored the same way.
Pages: bag-of-words recall over the page, and CER of the page text (lines in reading order,
whitespace collapsed). Rekognition returns at most 100 words; the pages hold up to 726, so the
page rows lift that limit (``max_words=None``) to measure the reader, not the cap.

Both pipelines run each onnxruntime session on one thread, interleaved image by image.
"""

from __future__ import annotations

import io
import re
import sys
from collections import Counter
from typing import Any

import numpy as np
from PIL import Image

from imagebench import DATA, client, edit_distance, interleaved, ms, png_bytes, table

ICDAR = DATA / "text" / "icdar2015-dev"
DOCS = DATA / "text" / "tesseract-docs"
PAGES = [
    ("phototest.tif", "phototest.txt"),
    ("phototest-rotated-L.png", "phototest.txt"),
    ("phototest-rotated-R.png", "phototest.txt"),
    ("phototest-rotated-180.png", "phototest.txt"),
    ("eurotext.tif", "eurotext.txt"),
    ("8071_093.3B.tif", "8071_093.3B.txt"),
    ("8087_054.3B.tif", "8087_054.3B.txt"),
]


def norm(word: str) -> str:
    return re.sub(r"^\W+|\W+$", "", word).casefold()


def bag(text: str) -> Counter[str]:
    return Counter(w for w in (norm(x) for x in text.split()) if w)


def bag_recall(truth: str, found: str) -> tuple[int, int]:
    t, f = bag(truth), bag(found)
    return sum((t & f).values()), sum(t.values())


def page_text(text: str) -> str:
    return " ".join(text.split())


def icdar_truth(n: int) -> list[tuple[tuple[float, float, float, float], str]]:
    out = []
    text = (ICDAR / "annotations" / f"gt_img_{n}.txt").read_text(encoding="utf-8-sig")
    for line in text.splitlines():
        parts = line.strip().split(",", 8)
        if len(parts) < 9 or parts[8] == "###":
            continue
        xs, ys = [float(v) for v in parts[0:8:2]], [float(v) for v in parts[1:8:2]]
        out.append(((min(xs), min(ys), max(xs), max(ys)), parts[8]))
    return out


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def rapid_text(engine: Any, data: bytes) -> str:
    result, _ = engine(data)
    return "\n".join(r[1] for r in result or [])


def main() -> int:
    from rapidocr_onnxruntime import RapidOCR

    from candor.services.text import detect_text

    rek = client()
    rt = rek.runtime
    rapid = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    rows = []
    # ICDAR 2015 scene text.
    e2e = cer_edits = cer_chars = 0
    bags = {"candor": [0, 0], "rapid": [0, 0]}
    total = 0
    icdar_images = sorted((ICDAR / "imgs").glob("img_*.jpg"), key=lambda p: int(p.stem[4:]))
    for path in icdar_images:
        data = path.read_bytes()
        w, h = Image.open(path).size
        truth = icdar_truth(int(path.stem[4:]))
        r = rek.detect_text(Image={"Bytes": data})
        words = []
        for d in r["TextDetections"]:
            if d["Type"] != "WORD":
                continue
            b = d["Geometry"]["BoundingBox"]
            box = (b["Left"] * w, b["Top"] * h, (b["Left"] + b["Width"]) * w,
                   (b["Top"] + b["Height"]) * h)
            words.append((box, d["DetectedText"]))
        used: set[int] = set()
        for box, text in truth:
            total += 1
            cer_chars += len(norm(text))
            overlaps = [(iou(box, wb), i) for i, (wb, _) in enumerate(words)]
            best = max(overlaps, default=(0.0, -1))
            cer_edits += edit_distance(norm(text), norm(words[best[1]][1]) if best[0] >= 0.5 else "")
            for o, i in sorted(overlaps, reverse=True):
                if o >= 0.5 and i not in used and norm(words[i][1]) == norm(text):
                    used.add(i)
                    e2e += 1
                    break
        truth_text = " ".join(t for _, t in truth)
        for name, found in (("candor", " ".join(t for _, t in words)),
                            ("rapid", rapid_text(rapid, data))):
            hit, n = bag_recall(truth_text, found)
            bags[name][0] += hit
            bags[name][1] += n
    rows.append([f"ICDAR 2015, {len(icdar_images)} photos, {total} words (### ignored)",
                 f"{100 * e2e / total:.1f}%",
                 f"{100 * bags['candor'][0] / bags['candor'][1]:.1f}%",
                 f"{100 * bags['rapid'][0] / bags['rapid'][1]:.1f}%",
                 f"{100 * cer_edits / max(cer_chars, 1):.1f}%", "–"])

    # Scanned pages, rotated ones included.
    for image_name, truth_name in PAGES:
        data = png_bytes(DOCS / image_name)
        truth = (DOCS / truth_name).read_text()
        result = detect_text(rt, image=data, max_words=None)
        ours = " ".join(d.text for d in result.detections if d.type == "LINE")
        theirs = rapid_text(rapid, np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))[:, :, ::-1])
        hit, n = bag_recall(truth, ours)
        rhit, rn = bag_recall(truth, theirs)
        cer = edit_distance(page_text(truth), page_text(ours)) / len(page_text(truth))
        rcer = edit_distance(page_text(truth), page_text(theirs)) / len(page_text(truth))
        rows.append([f"{image_name} ({n} words)", "–", f"{100 * hit / n:.1f}%",
                     f"{100 * rhit / rn:.1f}%", f"{100 * cer:.1f}%", f"{100 * rcer:.1f}%"])

    print("DetectText accuracy (PP-OCRv4 via Candor; RapidOCR 1.4.4 on the same ONNX files)\n")
    print(table(["set", "end-to-end word recall", "word recall (bag)", "RapidOCR word recall",
                 "CER", "RapidOCR CER"], rows))

    # Speed: scene photos and the small pages, interleaved.
    speed_images = [p.read_bytes() for p in icdar_images] + [
        png_bytes(DOCS / name) for name, _ in PAGES[:5]
    ]
    times = interleaved(speed_images, {
        "rapid": lambda d: rapid(d),
        "candor": lambda d: rek.detect_text(Image={"Bytes": d}),
    }, warmup=1)
    ratio = np.mean(times["rapid"]) / np.mean(times["candor"])
    # RapidOCR finds no line at all on the rotated pages (it stops before recognition), so
    # the same work is only the images where it reads something.
    read = [i for i, d in enumerate(speed_images) if (rapid(d)[0] or [])]
    same_rapid = np.mean([times["rapid"][i] for i in read])
    same_candor = np.mean([times["candor"][i] for i in read])
    print()
    print(table(["run", "mean ms/image", "throughput vs bare"], [
        ["RapidOCR (bare pipeline, same ONNX files, 1 thread)", ms(times["rapid"]), "1.00×"],
        ["Candor DetectText", ms(times["candor"]), f"{ratio:.2f}×"],
        [f"RapidOCR, the {len(read)} images it reads text in", f"{1000 * same_rapid:.1f}", "1.00×"],
        [f"Candor DetectText, the same {len(read)} images", f"{1000 * same_candor:.1f}",
         f"{same_rapid / same_candor:.2f}×"],
    ]))
    print(f"\n{len(speed_images)} images: 5 ICDAR photos (1280×720) and 5 pages up to 1024×800.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
