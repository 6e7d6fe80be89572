"""A process that works on a collection and reports each acknowledged effect on stdout, one
line each, flushed *after* the call returned: what it printed is what the service promised.
Used by the durability and concurrency tests (run as ``python -m tests.collection_worker``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from candor import Client


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["index", "delete", "search"])
    ap.add_argument("data_dir")
    ap.add_argument("collection")
    ap.add_argument("items", nargs="*", help="image paths (index, search) or face ids (delete)")
    ap.add_argument("--delete-every", type=int, default=0, help="index: delete every Nth face")
    ap.add_argument("--deleted-log", help="search: file of face ids acknowledged as deleted")
    ap.add_argument("--seconds", type=float, default=10.0, help="search: how long to search")
    args = ap.parse_args()
    client = Client(data_dir=args.data_dir)
    out = sys.stdout
    if args.mode == "index":
        n = 0
        for path in args.items:
            r = client.index_faces(
                CollectionId=args.collection,
                Image={"Bytes": Path(path).read_bytes()},
                ExternalImageId=Path(path).parent.name,
                QualityFilter="NONE",
            )
            for f in r["FaceRecords"]:
                n += 1
                print(f"indexed {f['Face']['FaceId']}", file=out, flush=True)
                if args.delete_every and n % args.delete_every == 0:
                    client.delete_faces(CollectionId=args.collection, FaceIds=[f["Face"]["FaceId"]])
                    print(f"deleted {f['Face']['FaceId']}", file=out, flush=True)
    elif args.mode == "delete":
        for face_id in args.items:
            client.delete_faces(CollectionId=args.collection, FaceIds=[face_id])
            print(f"deleted {face_id}", file=out, flush=True)
    else:
        deadline = time.monotonic() + args.seconds
        images = [Path(p).read_bytes() for p in args.items]
        i = 0
        while time.monotonic() < deadline:
            log = Path(args.deleted_log) if args.deleted_log else None
            deleted_before = set(log.read_text().split()) if log and log.exists() else set()
            r = client.search_faces_by_image(
                CollectionId=args.collection,
                Image={"Bytes": images[i % len(images)]},
                FaceMatchThreshold=0,
                MaxFaces=4096,
            )
            returned = {m["Face"]["FaceId"] for m in r["FaceMatches"]}
            bad = returned & deleted_before
            if bad:
                print(f"RESURRECTED {' '.join(sorted(bad))}", file=out, flush=True)
                return 1
            print(f"searched {len(returned)}", file=out, flush=True)
            i += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
