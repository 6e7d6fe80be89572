"""1:N identification on LFW-dev through Candor's own collection search.

    python bench/identification.py

Gallery: for half of the people with two or more images (chosen by a hash of the name), their
first image; plus every person with a single image, as distractors. Mated probes: the other
images of the enrolled people. Non-mated probes: every image of the other half, who are not in
the gallery at all. Descriptors come from the cached embedding run (bench/lfw.py); the gallery is
written to a real collection and every probe goes through services.search (calibrated
Similarity, derived index, catalog re-check), exactly as SearchFacesByImage would after
detection.

A second table has the shape of the ACLU's 2018 test of Rekognition (members of Congress
searched against 25,000 arrest photos at the default 80% threshold): a gallery of every image of
the enrolled half plus the distractors, probed with one image of each person who is not in it;
every candidate returned is a false match.

Reported: rank-1 identification rate (the mate is the best candidate, any score), FNIR(T)
(the mate is not the rank-1 candidate at Similarity >= T) and FPIR(T) (a non-mated probe
returns any candidate at Similarity >= T), for T in 80, 90, 95, 99, with the expected FPIR from
the calibration table (gallery size × FMR(T)).
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from lfw import ROOT, all_images, embed_images, identity, progress

THRESHOLDS = (80, 90, 95, 99)


def enrol(rt: Any, caller: Any, collection_id: str, people: list[tuple[str, Path]],
          emb: dict[str, Any]) -> None:
    """A collection holding these (name, image) descriptors, written straight to the catalog."""
    from candor.services import collections
    from candor.storage.catalog import NewFace

    collections.create_collection(rt, caller, collection_id=collection_id)
    faces = [
        NewFace(str(uuid.uuid4()), str(uuid.uuid4()), name, 0, 0, 1, 1, 100.0,
                np.asarray(emb[str(path)], dtype="<f4").tobytes(), "0" * 64)
        for name, path in people
    ]
    with rt.catalog.transaction(write=True) as tx:
        record = tx.collection(caller.account, collection_id)
        assert record is not None
        tx.insert_faces(record, faces)


def main() -> int:
    from candor.calibration import fmr_for_similarity
    from candor.config import Settings
    from candor.runtime import Runtime
    from candor.services import search
    from candor.types import Caller

    paths = all_images()
    emb = embed_images(paths)
    by_person: dict[str, list[Path]] = defaultdict(list)
    for p in paths:
        if emb[str(p)] is not None:
            by_person[identity(p)].append(p)
    multi = sorted(n for n, ps in by_person.items() if len(ps) >= 2)
    single = sorted(n for n, ps in by_person.items() if len(ps) == 1)
    enrolled = [n for n in multi if hashlib.sha256(n.encode()).digest()[0] % 2 == 0]
    outsiders = [n for n in multi if n not in set(enrolled)]
    gallery = [(n, by_person[n][0]) for n in enrolled] + [(n, by_person[n][0]) for n in single]
    mated = [(n, p) for n in enrolled for p in by_person[n][1:]]
    non_mated = [(n, p) for n in outsiders for p in by_person[n]]

    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(Settings(data_dir=Path(tmp)))
        caller = Caller.local()
        enrol(rt, caller, "lfw-gallery", gallery, emb)
        with rt.catalog.transaction() as tx:
            record = tx.collection(caller.account, "lfw-gallery")
            assert record is not None

            def top(path: Path) -> tuple[str | None, float]:
                q = np.asarray(emb[str(path)], dtype="<f4").tobytes()
                hits = search.matches(rt, tx, record, q, threshold=0.0, max_faces=1)
                if not hits:
                    return None, 0.0
                return hits[0].face.external_image_id, hits[0].similarity

            start = time.time()
            mated_top = []
            for i, (n, p) in enumerate(mated, 1):
                mated_top.append((n, *top(p)))
                if i % 500 == 0 or i == len(mated):
                    progress(i, len(mated), start, "mated probes")
            start = time.time()
            non_top = []
            for i, (_, p) in enumerate(non_mated, 1):
                non_top.append(top(p))
                if i % 500 == 0 or i == len(non_mated):
                    progress(i, len(non_mated), start, "non-mated probes")
            search_ms = 1000 * (time.time() - start) / max(len(non_mated), 1)

        # ACLU-shaped: everything enrolled, one probe per outsider, count false matches.
        big = [(n, p) for n in enrolled for p in by_person[n]] + [
            (n, by_person[n][0]) for n in single
        ]
        enrol(rt, caller, "aclu", big, emb)
        aclu: dict[int, tuple[int, int]] = {}
        with rt.catalog.transaction() as tx:
            record = tx.collection(caller.account, "aclu")
            assert record is not None
            for t in (80, 99):
                people_hit = total = 0
                for n in outsiders:
                    q = np.asarray(emb[str(by_person[n][0])], dtype="<f4").tobytes()
                    hits = search.matches(rt, tx, record, q, threshold=float(t), max_faces=4096)
                    people_hit += bool(hits)
                    total += len(hits)
                aclu[t] = (people_hit, total)

    rank1 = np.mean([got == want for want, got, _ in mated_top])
    print(
        f"LFW-dev identification: gallery {len(gallery)} faces ({len(enrolled)} enrolled people "
        f"+ {len(single)} single-image distractors), {len(mated)} mated probes, "
        f"{len(non_mated)} non-mated probes ({len(outsiders)} people not in the gallery)"
    )
    print(f"rank-1 identification rate (any score): {rank1:.2%}; search {search_ms:.2f} ms/probe\n")
    print(
        "| threshold | FNIR | FPIR (measured) | non-mated probes with a false match | FPIR expected (N × FMR) |"
    )
    print("|---:|---:|---:|---:|---:|")
    for t in THRESHOLDS:
        fnir = np.mean([not (got == want and s >= t) for want, got, s in mated_top])
        false = sum(s >= t for _, s in non_top)
        expected = min(1.0, len(gallery) * fmr_for_similarity(t))
        print(
            f"| {t} | {fnir:.2%} | {false / len(non_top):.3%} | {false} of {len(non_top)} | {expected:.2%} |"
        )
    print(
        f"\nACLU-shaped test: gallery {len(big)} faces, {len(outsiders)} probes of people not in it"
    )
    print(
        "| threshold | probes with at least one false match | false matches returned | expected (probes × gallery × FMR) |"
    )
    print("|---:|---:|---:|---:|")
    for t, (hit, total) in aclu.items():
        expected = len(outsiders) * len(big) * fmr_for_similarity(t)
        print(
            f"| {t} | {hit} of {len(outsiders)} ({hit / len(outsiders):.1%}) | {total} | {expected:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
