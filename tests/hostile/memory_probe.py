"""Runs every image-taking operation on one image under an address-space limit and prints the
peak RSS (run as ``python -m tests.hostile.memory_probe DATA_DIR IMAGE LIMIT_MIB``)."""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from candor import Client


def main() -> int:
    data_dir, image, limit_mib = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    client = Client(data_dir=data_dir)
    client.create_collection(CollectionId="probe")
    img = {"Bytes": image.read_bytes()}
    # Models load before the limit, so it bounds what one request allocates on top of them.
    client.detect_labels(Image={"Bytes": (Path(__file__).parent / "warm.png").read_bytes()})
    limit = limit_mib << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    calls = {
        "DetectFaces": lambda: client.detect_faces(Image=img, Attributes=["ALL"]),
        "CompareFaces": lambda: client.compare_faces(SourceImage=img, TargetImage=img),
        "IndexFaces": lambda: client.index_faces(CollectionId="probe", Image=img),
        "SearchFacesByImage": lambda: client.search_faces_by_image(CollectionId="probe", Image=img),
        "DetectLabels": lambda: client.detect_labels(Image=img),
        "DetectText": lambda: client.detect_text(Image=img),
        "DetectModerationLabels": lambda: client.detect_moderation_labels(Image=img),
    }
    outcome = {}
    for name, call in calls.items():
        try:
            call()
            outcome[name] = "ok"
        except MemoryError:
            outcome[name] = "MemoryError"
        except Exception as exc:  # a Rekognition error is a fine answer to this image
            outcome[name] = type(exc).__name__
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"outcome": outcome, "peak_rss_mib": peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
