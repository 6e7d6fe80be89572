"""``candor detect-labels``, ``candor detect-text`` and ``candor detect-moderation-labels``.
Like the rest of the CLI they call services/ directly and print the operation's JSON, or a
readable table with ``--table``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from candor.api import serialize_images
from candor.image_types import LabelFilters, WordFilter


def _emit(args: argparse.Namespace, wire: dict[str, Any], table: Callable[[], str]) -> None:
    print(table() if args.table else json.dumps(wire, indent=2))


def cmd_detect_labels(args: argparse.Namespace, rt: Any) -> int:
    from candor.services import labels

    features = [labels.GENERAL_LABELS] + ([labels.IMAGE_PROPERTIES] if args.properties else [])
    result = labels.detect_labels(
        rt,
        image=args.image,
        max_labels=args.max_labels,
        min_confidence=args.min_confidence,
        features=features,
        filters=LabelFilters(
            include=tuple(args.include), exclude=tuple(args.exclude),
            include_categories=tuple(args.include_category),
            exclude_categories=tuple(args.exclude_category),
        ),
    )

    def table() -> str:
        found = result.labels or ()
        lines = [f"{len(found)} label(s), model {result.model_version}"]
        lines.append(f"{'confidence':>10}  {'label':28} {'instances':>9}  parents")
        for x in found:
            lines.append(f"{x.confidence:>10.2f}  {x.name[:28]:28} {len(x.instances):>9}  "
                         f"{', '.join(x.parents)}")
        if result.image_properties is not None:
            q = result.image_properties.quality
            lines.append(f"brightness {q.brightness:.1f}  sharpness {q.sharpness:.1f}  "
                         f"contrast {q.contrast:.1f}")
            for c in result.image_properties.dominant_colors:
                lines.append(f"  {c.hex_code}  {c.pixel_percent:5.1f}%  {c.simplified_color:7} "
                             f"{c.css_color}")
        return "\n".join(lines)

    _emit(args, serialize_images.detect_labels(result), table)
    return 0


def cmd_detect_text(args: argparse.Namespace, rt: Any) -> int:
    from candor.services import text

    result = text.detect_text(
        rt,
        image=args.image,
        word_filter=WordFilter(min_confidence=args.min_confidence),
        max_words=None if args.all_words else text.MAX_WORDS,
    )

    def table() -> str:
        lines_ = [d for d in result.detections if d.type == "LINE"]
        words = [d for d in result.detections if d.type == "WORD"]
        out = [f"{len(lines_)} line(s), {len(words)} word(s), model {result.model_version}"]
        for d in lines_:
            b = d.bounding_box
            out.append(f"{d.confidence:6.2f}  left={b.left:.3f} top={b.top:.3f}  {d.text}")
        return "\n".join(out)

    _emit(args, serialize_images.detect_text(result), table)
    return 0


def cmd_detect_moderation_labels(args: argparse.Namespace, rt: Any) -> int:
    from candor.services import moderation

    result = moderation.detect_moderation_labels(
        rt, image=args.image, min_confidence=args.min_confidence
    )

    def table() -> str:
        out = [f"{len(result.labels)} moderation label(s), model {result.model_version}"]
        for m in result.labels:
            indent = "  " * (m.taxonomy_level - 1)
            out.append(f"{m.confidence:6.2f}  {indent}{m.name}")
        return "\n".join(out)

    _emit(args, serialize_images.detect_moderation_labels(result), table)
    return 0


def add_parsers(sub: Any, image_arg: Callable[[str], Any]) -> None:
    p = sub.add_parser(
        "detect-labels",
        help="objects, animals, scenes, people; print DetectLabels JSON",
        description="Label the image (MobileNetV2 over ImageNet's 1000 classes with WordNet "
        "parents; Person and Face from the face detector) and print Rekognition's DetectLabels "
        "response.",
    )
    p.add_argument("image", type=image_arg, help="JPEG or PNG path, or s3://bucket/key")
    p.add_argument("--max-labels", type=int, help="MaxLabels (default: all)")
    p.add_argument("--min-confidence", type=float, default=55.0,
                   help="MinConfidence, 0-100 (default 55)")
    p.add_argument("--properties", action="store_true",
                   help="also IMAGE_PROPERTIES: brightness, sharpness, contrast, colours")
    p.add_argument("--include", action="append", default=[], metavar="LABEL",
                   help="LabelInclusionFilters (repeatable)")
    p.add_argument("--exclude", action="append", default=[], metavar="LABEL",
                   help="LabelExclusionFilters (repeatable)")
    p.add_argument("--include-category", action="append", default=[], metavar="CATEGORY",
                   help="LabelCategoryInclusionFilters (repeatable)")
    p.add_argument("--exclude-category", action="append", default=[], metavar="CATEGORY",
                   help="LabelCategoryExclusionFilters (repeatable)")
    p.add_argument("--table", action="store_true", help="print a readable table instead of JSON")
    p.set_defaults(func=cmd_detect_labels, needs_runtime=True)

    p = sub.add_parser(
        "detect-text",
        help="lines and words of text; print DetectText JSON",
        description="Read text (PP-OCRv4) and print Rekognition's DetectText response: LINE "
        "and WORD detections, at most 100 words unless --all-words.",
    )
    p.add_argument("image", type=image_arg, help="JPEG or PNG path, or s3://bucket/key")
    p.add_argument("--min-confidence", type=float, default=0.0,
                   help="WordFilter.MinConfidence, 0-100 (default 0)")
    p.add_argument("--all-words", action="store_true",
                   help="lift Rekognition's limit of 100 words (not part of the API)")
    p.add_argument("--table", action="store_true", help="print a readable table instead of JSON")
    p.set_defaults(func=cmd_detect_text, needs_runtime=True)

    p = sub.add_parser(
        "detect-moderation-labels",
        help="nudity moderation labels; print DetectModerationLabels JSON",
        description="Detect exposed body parts (NudeNet) and print Rekognition's "
        "DetectModerationLabels response, on its taxonomy. Gender is never reported.",
    )
    p.add_argument("image", type=image_arg, help="JPEG or PNG path, or s3://bucket/key")
    p.add_argument("--min-confidence", type=float, default=50.0,
                   help="MinConfidence, 0-100 (default 50)")
    p.add_argument("--table", action="store_true", help="print a readable table instead of JSON")
    p.set_defaults(func=cmd_detect_moderation_labels, needs_runtime=True)
