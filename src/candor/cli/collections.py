"""``candor collection``, ``candor index`` and ``candor search``: face collections from the
command line, through the API's own validation and dispatch (:mod:`candor.cli.wire`);
``migrate-scores``, which Rekognition's API has no operation for, calls its service."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from candor.errors import ServiceError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
_EXTERNAL_ID_BAD = re.compile(r"[^a-zA-Z0-9_.\-:]")


def external_id_for(path: Path, root: Path) -> str:
    """ExternalImageId: the sub-folder's name for files in a folder of folders (one folder per
    person, as LFW is laid out), else the file's stem; characters Rekognition refuses → '_'."""
    name = path.parent.name if path.parent != root else path.stem
    return _EXTERNAL_ID_BAD.sub("_", name)[:255] or "image"


def iter_images(paths: list[Path]) -> Iterator[tuple[Path, str]]:
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES:
                    yield f, external_id_for(f, p)
        else:
            yield p, external_id_for(p, p.parent)


class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal, or forced)."""

    def __init__(self, total: int, label: str, *, enabled: bool | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.start = time.monotonic()
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / self.total)
        rate = done / max(time.monotonic() - self.start, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else 0
        sys.stderr.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} "
            f"{rate:.1f}/s eta {eta:.0f}s {note[:30]:30}"
        )
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def cmd_collection(args: argparse.Namespace, rt: Any) -> int:
    from candor.cli import wire

    action = args.collection_command
    if action == "create":
        body = wire.call(rt, "CreateCollection", {"CollectionId": args.collection_id})
        print(json.dumps(body, indent=2))
    elif action == "describe":
        body = wire.call(rt, "DescribeCollection", {"CollectionId": args.collection_id})
        print(json.dumps(body, indent=2, default=str))
    elif action == "delete":
        described = wire.call(rt, "DescribeCollection", {"CollectionId": args.collection_id})
        wire.call(rt, "DeleteCollection", {"CollectionId": args.collection_id}, args.purpose)
        print(f"deleted collection {args.collection_id} and its {described['FaceCount']} face(s)")
    elif action == "migrate-scores":
        from candor.services import collections
        from candor.types import Caller

        caller = Caller.local(args.purpose)
        wire.call(rt, "DescribeCollection", {"CollectionId": args.collection_id})  # validates
        old = collections.describe_collection(rt, caller, collection_id=args.collection_id)
        after = collections.migrate_scoring(
            rt, caller, collection_id=args.collection_id, scoring=args.to
        )
        if old.face_model == after.face_model:
            print(f"{args.collection_id} already uses FaceModelVersion {after.face_model}")
        else:
            print(
                f"{args.collection_id}: FaceModelVersion {old.face_model} -> "
                f"{after.face_model} ({after.face_count} face(s) kept; Similarity values and "
                "what a threshold means now follow the new calibration)"
            )
    else:
        params: wire.Wire = {}
        print(f"{'collection':40} {'faces':>8} {'users':>6}  model")
        while True:
            page = wire.call(rt, "ListCollections", params)
            for cid, version in zip(
                page["CollectionIds"], page["FaceModelVersions"], strict=True
            ):
                d = wire.call(rt, "DescribeCollection", {"CollectionId": cid})
                print(f"{cid:40} {d['FaceCount']:>8} {d.get('UserCount', 0):>6}  {version}")
            if not page.get("NextToken"):
                break
            params = {"NextToken": page["NextToken"]}
    return 0


def cmd_index(args: argparse.Namespace, rt: Any) -> int:
    from candor.cli import wire

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    images = list(iter_images([Path(p) for p in args.paths]))
    if not images:
        print("error: no JPEG or PNG files found in the given paths", file=sys.stderr)
        return 2
    common: wire.Wire = {"CollectionId": args.collection_id, "QualityFilter": args.quality_filter}
    if args.max_faces is not None:
        common["MaxFaces"] = args.max_faces
    wire.check("IndexFaces", {**common, "Image": wire.image(b"image")})
    progress = Progress(len(images), "indexing", enabled=args.progress)
    indexed = unindexed = failed = 0
    reasons: dict[str, int] = {}
    for i, (path, external_id) in enumerate(images, 1):
        params = {**common, "Image": wire.image(path.read_bytes()), "ExternalImageId": external_id}
        try:
            result = wire.call(rt, "IndexFaces", params, args.purpose)
        except ServiceError as exc:
            if exc.code == "ResourceNotFoundException":
                print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
                return 1
            failed += 1
            print(f"\n{path}: {exc.code}: {exc.message}", file=sys.stderr)
        else:
            indexed += len(result["FaceRecords"])
            unindexed += len(result["UnindexedFaces"])
            for face in result["UnindexedFaces"]:
                for r in face.get("Reasons", []):
                    reasons[r] = reasons.get(r, 0) + 1
        progress.update(i, path.name)
    why = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))
    print(
        f"{len(images)} image(s): {indexed} face(s) indexed, {unindexed} not indexed"
        + (f" ({why})" if why else "")
        + (f", {failed} image(s) failed" if failed else "")
    )
    return 1 if failed else 0


def cmd_search(args: argparse.Namespace, rt: Any) -> int:
    from candor.calibration import fmr_for_similarity
    from candor.cli import wire

    body = wire.call(rt, "SearchFacesByImage", {
        "CollectionId": args.collection_id,
        "Image": wire.image(args.image),
        "FaceMatchThreshold": args.threshold,
        "MaxFaces": args.max_faces,
    }, args.purpose)
    if not args.table:
        wire.emit(args, body, str)
        return 0
    print(
        f"threshold {args.threshold:g}: false match rate about "
        f"{fmr_for_similarity(args.threshold):.0e} per face compared; expected false matches "
        f"in this search ≈ {body['ExpectedFalseMatches']:.2g}"
    )
    print(f"{len(body['FaceMatches'])} match(es)")
    for m in body["FaceMatches"]:
        face = m["Face"]
        print(f"  {m['Similarity']:6.2f}  {face['FaceId']}  {face.get('ExternalImageId') or ''}")
    return 0


def add_parsers(sub: Any, image_arg: Any) -> None:
    p = sub.add_parser(
        "collection",
        help="create, list, describe or delete face collections",
        description="Manage face collections (the local admin account's).",
    )
    actions = p.add_subparsers(dest="collection_command", metavar="ACTION", required=True)
    for name, text in (
        ("create", "create a collection"),
        ("describe", "face count, user count, model and ARN"),
        ("delete", "delete a collection and every face in it"),
    ):
        a = actions.add_parser(name, help=text)
        a.add_argument("collection_id", help="collection id ([a-zA-Z0-9_.-]+)")
    actions.add_parser("list", help="list collections")
    m = actions.add_parser(
        "migrate-scores",
        help="move a collection to the current scoring (FaceModelVersion 2.0)",
        description=(
            "A collection keeps the scoring it was created with. FaceModelVersion 1.0 collections "
            "state false match rates measured on LFW only, which other groups exceed by up to "
            "hundreds of times; 2.0 (the default for new collections) states a rate that holds "
            "for every group measured. Faces are kept; no image is needed. Audited."
        ),
    )
    m.add_argument("collection_id", help="collection id ([a-zA-Z0-9_.-]+)")
    m.add_argument("--to", metavar="SCORING", help="scoring name (default: the current one)")
    p.set_defaults(func=cmd_collection, needs_runtime=True)

    p = sub.add_parser(
        "index",
        help="index the faces in files and folders into a collection",
        description="IndexFaces for every JPEG/PNG in PATHs (folders are searched recursively). "
        "ExternalImageId is the file's folder name when a PATH is a folder of folders (one per "
        "person), else the file name without extension.",
    )
    p.add_argument("collection_id", help="collection to index into")
    p.add_argument("paths", nargs="+", help="image files or folders")
    p.add_argument("--max-faces", type=int, default=None, help="largest faces indexed per image")
    p.add_argument("--quality-filter", default="AUTO",
                   choices=["NONE", "AUTO", "LOW", "MEDIUM", "HIGH"],
                   help="faces below this bar are not indexed (default AUTO)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: when stderr is a terminal)")
    p.set_defaults(func=cmd_index, needs_runtime=True)

    p = sub.add_parser(
        "search",
        help="search a collection with the largest face in an image",
        description="SearchFacesByImage. Similarity is calibrated: threshold 80 means a false "
        "match rate of 1e-4 per face compared, so a collection of N faces gives about N×1e-4 "
        "false matches per search; --table prints that estimate.",
    )
    p.add_argument("collection_id", help="collection to search")
    p.add_argument("image", type=image_arg, help="JPEG or PNG path, or s3://bucket/key")
    p.add_argument("--threshold", type=float, default=80.0, help="FaceMatchThreshold (default 80)")
    p.add_argument("--max-faces", type=int, default=10, help="most matches shown (default 10)")
    p.add_argument("--table", action="store_true", help="print a readable table instead of JSON")
    p.set_defaults(func=cmd_search, needs_runtime=True)
