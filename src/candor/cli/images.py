"""``candor detect-labels``, ``candor detect-text`` and ``candor detect-moderation-labels``:
the operation's JSON, or a readable table with ``--table``. They run through the API's own
validation and dispatch (:mod:`candor.cli.wire`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from candor.cli import wire


def cmd_detect_labels(args: argparse.Namespace, rt: Any) -> int:
    features = ["GENERAL_LABELS"] + (["IMAGE_PROPERTIES"] if args.properties else [])
    params: wire.Wire = {"Image": wire.image(args.image), "Features": features,
                         "MinConfidence": args.min_confidence}
    if args.max_labels is not None:
        params["MaxLabels"] = args.max_labels
    general = {
        key: list(values) for key, values in (
            ("LabelInclusionFilters", args.include), ("LabelExclusionFilters", args.exclude),
            ("LabelCategoryInclusionFilters", args.include_category),
            ("LabelCategoryExclusionFilters", args.exclude_category),
        ) if values
    }
    if general:
        params["Settings"] = {"GeneralLabels": general}
    body = wire.call(rt, "DetectLabels", params)

    def table() -> str:
        found = body.get("Labels") or []
        lines = [f"{len(found)} label(s), model {body.get('LabelModelVersion')}"]
        lines.append(f"{'confidence':>10}  {'label':28} {'instances':>9}  parents")
        for x in found:
            parents = ", ".join(p["Name"] for p in x.get("Parents", []))
            lines.append(f"{x['Confidence']:>10.2f}  {x['Name'][:28]:28} "
                         f"{len(x.get('Instances', [])):>9}  {parents}")
        props = body.get("ImageProperties")
        if props is not None:
            q = props["Quality"]
            lines.append(f"brightness {q['Brightness']:.1f}  sharpness {q['Sharpness']:.1f}  "
                         f"contrast {q['Contrast']:.1f}")
            for c in props.get("DominantColors", []):
                lines.append(f"  {c['HexCode']}  {c['PixelPercent']:5.1f}%  "
                             f"{c['SimplifiedColor']:7} {c['CSSColor']}")
        return "\n".join(lines)

    wire.emit(args, body, table)
    return 0


def cmd_detect_text(args: argparse.Namespace, rt: Any) -> int:
    if args.all_words:
        body = _all_words(args, rt)  # past the API's 100-word limit: not an API call
    else:
        body = wire.call(rt, "DetectText", {
            "Image": wire.image(args.image),
            "Filters": {"WordFilter": {"MinConfidence": args.min_confidence}},
        })

    def table() -> str:
        found = body["TextDetections"]
        lines_ = [d for d in found if d["Type"] == "LINE"]
        words = [d for d in found if d["Type"] == "WORD"]
        out = [f"{len(lines_)} line(s), {len(words)} word(s), model {body['TextModelVersion']}"]
        for d in lines_:
            b = d["Geometry"]["BoundingBox"]
            out.append(f"{d['Confidence']:6.2f}  left={b['Left']:.3f} top={b['Top']:.3f}  "
                       f"{d['DetectedText']}")
        return "\n".join(out)

    wire.emit(args, body, table)
    return 0


def _all_words(args: argparse.Namespace, rt: Any) -> wire.Wire:
    from candor.api.shapes import output
    from candor.image_types import WordFilter
    from candor.services import text

    result = text.detect_text(
        rt, image=args.image, word_filter=WordFilter(min_confidence=args.min_confidence),
        max_words=None,
    )
    return output("DetectText", result)


def cmd_detect_moderation_labels(args: argparse.Namespace, rt: Any) -> int:
    body = wire.call(rt, "DetectModerationLabels", {
        "Image": wire.image(args.image), "MinConfidence": args.min_confidence,
    })

    def table() -> str:
        found = body["ModerationLabels"]
        out = [f"{len(found)} moderation label(s), model {body['ModerationModelVersion']}"]
        for m in found:
            indent = "  " * (int(m.get("TaxonomyLevel", 1)) - 1)
            out.append(f"{m['Confidence']:6.2f}  {indent}{m['Name']}")
        return "\n".join(out)

    wire.emit(args, body, table)
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
