"""What console pages read that no Rekognition operation gives: an account's video jobs, the
audit log with its verification, and an evaluation of a collection's own faces.

These run in the API's worker processes (:meth:`candor.api.front.workers.WorkerPool.call`),
beside the models and the database connection, never on the front process's event loop. Each
returns plain data (dicts, lists) the templates render.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from candor import audit
from candor.audit import AuditEvent
from candor.errors import InvalidParameterException, ResourceNotFoundException
from candor.runtime import Runtime
from candor.services.evaluation import THRESHOLDS, Rate
from candor.services.video import GETTERS
from candor.types import Caller

CHECKPOINT_DIR = "audit-checkpoints"
MAX_JOBS = 200
MAX_AUDIT_ROWS = 200
MAX_EVAL_FACES = 2000
MAX_IMPOSTOR_PAIRS = 200_000
MAX_UPLOAD_IMAGES = 500  # about a minute of embedding on 2 cores
MAX_UPLOAD_UNZIPPED = 256 * 1024 * 1024
MAX_IMAGE_BYTES = 15 * 1024 * 1024
MAX_PAIRS_BYTES = 4 * 1024 * 1024
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class AuditFilter:
    operation: str = ""
    collection: str = ""
    principal: str = ""
    outcome: str = ""  # "", "ok" or "refused"
    since: str = ""


def video_jobs(rt: Runtime, account: str) -> list[dict[str, Any]]:
    """The account's video jobs of every kind, newest first."""
    found = []
    with rt.catalog.transaction() as tx:
        for operation in GETTERS:
            found.extend(tx.jobs(account, operation, None, MAX_JOBS))
    found.sort(key=lambda j: j.created, reverse=True)
    return [
        {
            "job_id": j.job_id,
            "operation": j.operation,
            "getter": GETTERS[j.operation],
            "status": "IN_PROGRESS" if j.status == "QUEUED" else j.status,
            "status_message": j.status_message,
            "progress": round(j.progress * 100),
            "tag": j.tag,
            "video": json.loads(j.request).get("Video", {}).get("S3Object", {}),
            "created": j.created.isoformat(timespec="seconds"),
        }
        for j in found[:MAX_JOBS]
    ]


def _matches(fields: dict[str, Any], f: AuditFilter, account: str | None) -> bool:
    if account is not None and fields.get("account") != account:
        return False
    if f.operation and fields.get("operation") != f.operation:
        return False
    if f.collection and f.collection not in (fields.get("collection") or ""):
        return False
    if f.principal and fields.get("principal") != f.principal:
        return False
    outcome = str(fields.get("outcome") or "")
    if f.outcome == "ok" and outcome != "ok":
        return False
    if f.outcome == "refused" and not outcome.startswith("refused"):
        return False
    return not (f.since and str(fields.get("time", "")) < f.since)


def checkpoint_dir(rt: Runtime) -> Path:
    return rt.settings.data_dir / CHECKPOINT_DIR


def audit_page(rt: Runtime, account: str, is_admin: bool, f: AuditFilter) -> dict[str, Any]:
    """The newest records that pass the filter (an admin sees every account's), the whole
    chain's verdict and the last checkpoint with whether the chain still holds it."""
    with rt.catalog.transaction() as tx:
        records = list(tx.audit_records())
    verdict = audit.verify(records)
    rows: list[dict[str, Any]] = []
    operations: set[str] = set()
    for record in reversed(records):
        fields = record.fields()
        operations.add(str(fields.get("operation")))
        if len(rows) < MAX_AUDIT_ROWS and _matches(fields, f, None if is_admin else account):
            rows.append(fields)
    checkpoint: dict[str, Any] | None = None
    saved = sorted(checkpoint_dir(rt).glob("*.json")) if checkpoint_dir(rt).is_dir() else []
    if saved:
        data = json.loads(saved[-1].read_text())
        checkpoint = {
            "file": saved[-1].name,
            "seq": data.get("seq"),
            "hash": data.get("hash"),
            "signed_at": data.get("time"),
            "problem": audit.check_checkpoint(data, records),
        }
    return {
        "ok": verdict.ok,
        "records": verdict.records,
        "total": len(records),
        "head": verdict.head,
        "first_bad": verdict.first_bad,
        "reason": verdict.reason,
        "rows": rows,
        "operations": sorted(operations),
        "checkpoint": checkpoint,
    }


def save_checkpoint(rt: Runtime) -> dict[str, Any]:
    """Sign the chain head and keep the checkpoint in ``DATA_DIR/audit-checkpoints``."""
    with rt.catalog.transaction() as tx:
        records = list(tx.audit_records())
    verdict = audit.verify(records)
    if not verdict.ok or verdict.head is None:
        return {"error": f"not checkpointing a broken or empty log: {verdict.reason or 'empty'}"}
    return {"file": str(write_checkpoint(rt, audit.make_checkpoint(rt.settings.data_dir,
                                                                   verdict.head)))}


def write_checkpoint(rt: Runtime, checkpoint: dict[str, Any]) -> Path:
    folder = checkpoint_dir(rt)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{int(checkpoint['seq']):012d}.json"
    path.write_text(json.dumps(checkpoint, indent=2) + "\n")
    return path


def _audit(rt: Runtime, caller: Caller, event: AuditEvent) -> None:
    with rt.catalog.transaction(write=True) as tx:
        audit.append(tx, caller, event)


def evaluate_collection(rt: Runtime, caller: Caller, collection_id: str) -> dict[str, Any]:
    """Verification error rates measured on a collection's own faces: two faces of the same
    user (or, without users, the same ExternalImageId) are a genuine pair, two of different
    ones an impostor pair. Audited, as it compares stored faces."""
    with rt.catalog.transaction() as tx:
        record = tx.collection(caller.account, collection_id)
        if record is None:
            raise ResourceNotFoundException(f"The collection {collection_id!r} does not exist")
        faces = tx.faces(record, after_row=0, limit=MAX_EVAL_FACES)
    scoring = rt.scoring_for(record)
    labelled = [(f.user_id or f.external_image_id, f.descriptor) for f in faces]
    labelled = [(who, d) for who, d in labelled if who]
    genuine: list[float] = []
    impostor_pairs: list[tuple[int, int]] = []
    for i, (who, d) in enumerate(labelled):
        same = [j for j in range(i + 1, len(labelled)) if labelled[j][0] == who]
        genuine.extend(scoring.similarity_of(d, [labelled[j][1] for j in same]))
        impostor_pairs.extend((i, j) for j in range(i + 1, len(labelled)) if labelled[j][0] != who)
    if len(impostor_pairs) > MAX_IMPOSTOR_PAIRS:
        impostor_pairs = random.Random(0).sample(impostor_pairs, MAX_IMPOSTOR_PAIRS)
    impostor = [
        scoring.similarity_of(labelled[i][1], [labelled[j][1]])[0] for i, j in impostor_pairs
    ]
    _audit(rt, caller, AuditEvent(
        operation="ConsoleEvaluateCollection", collection=collection_id,
        detail={"faces": len(labelled), "genuine": len(genuine), "impostor": len(impostor)},
    ))
    report = _report(genuine, impostor)
    report.update(
        collection=collection_id,
        scoring=scoring.version,
        faces=len(faces),
        labelled=len(labelled),
        identities=len({who for who, _ in labelled}),
        capped=len(faces) >= MAX_EVAL_FACES,
    )
    return report


def _report(genuine: list[float], impostor: list[float]) -> dict[str, Any]:

    def fmr(t: float) -> Rate:
        return Rate(sum(s >= t for s in impostor), len(impostor))

    def fnmr(t: float) -> Rate:
        return Rate(sum(s < t for s in genuine), len(genuine))

    def rate(r: Rate) -> dict[str, Any]:
        lo, hi = r.interval if r.trials else (0.0, 1.0)
        return {"value": r.value if r.trials else None, "errors": r.errors, "trials": r.trials,
                "low": lo, "high": hi}

    return {
        "genuine": len(genuine),
        "impostor": len(impostor),
        "rates": [{"threshold": t, "fmr": rate(fmr(t)), "fnmr": rate(fnmr(t))}
                  for t in THRESHOLDS],
        "curve": [(t, fmr(t).value if impostor else None, fnmr(t).value if genuine else None)
                  for t in range(0, 101)],
    }


def score_table(rt: Runtime) -> list[dict[str, float]]:
    """What each Similarity from 0 to 100 means for CompareFaces and new collections: the false
    match rate it stands for and the calibration's false non-match rate there."""
    from candor.calibration import fmr_for_similarity

    calibration = rt.scoring.calibration
    return [
        {"t": float(t), "fmr": fmr_for_similarity(t),
         "fnmr": calibration.fnmr_at_similarity(float(t))}
        for t in range(0, 101)
    ]


def thumbnails(rt: Runtime, account: str, collection_id: str, face_ids: list[str]
               ) -> dict[str, str]:
    """The stored thumbnails (CANDOR_FACE_THUMBNAILS) of these faces, as base64 JPEG."""
    import base64

    with rt.catalog.transaction() as tx:
        record = tx.collection(account, collection_id)
        if record is None:
            return {}
        found = tx.thumbnails(record, face_ids)
    return {face_id: base64.b64encode(jpeg).decode() for face_id, jpeg in found.items()}


def evaluate_upload(rt: Runtime, caller: Caller, name: str, data: bytes) -> dict[str, Any]:
    """Verification error rates on an uploaded ZIP of images, one folder per person: every two
    images of one folder are a genuine pair, two of different folders an impostor pair (or the
    pairs a ``pairs.csv`` of ``image_a,image_b,same`` lines in the ZIP names). Files are read
    under their index, never their names, so no name in the archive reaches the file system."""
    import csv
    import io
    import tempfile
    import zipfile

    from candor.services.evaluation import embed_files

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise InvalidParameterException(f"{name} is not a ZIP file") from None
    images = [e for e in entries if not e.is_dir() and e.filename.lower().endswith(IMAGE_SUFFIXES)
              and not e.filename.startswith(("__MACOSX/", "."))]
    if not 2 <= len(images) <= MAX_UPLOAD_IMAGES:
        raise InvalidParameterException(
            f"{name} holds {len(images)} images (.jpg, .jpeg, .png); 2 to {MAX_UPLOAD_IMAGES} "
            "can be evaluated at once"
        )
    if sum(e.file_size for e in images) > MAX_UPLOAD_UNZIPPED or any(
        e.file_size > MAX_IMAGE_BYTES for e in images
    ):
        raise InvalidParameterException(
            f"{name} unpacks to more than {MAX_UPLOAD_UNZIPPED // 2**20} MiB (or holds an image "
            f"over {MAX_IMAGE_BYTES // 2**20} MiB)"
        )
    pairs_entry = next((e for e in entries if e.filename.rsplit("/", 1)[-1] == "pairs.csv"), None)
    with tempfile.TemporaryDirectory() as tmp:
        paths: dict[str, Path] = {}
        for i, entry in enumerate(images):
            path = Path(tmp) / f"{i:05d}{Path(entry.filename).suffix.lower()}"
            with archive.open(entry) as src:
                body = src.read(MAX_IMAGE_BYTES + 1)  # the stated size may lie
            if len(body) > MAX_IMAGE_BYTES:
                raise InvalidParameterException(f"{entry.filename} is over 15 MiB")
            path.write_bytes(body)
            paths[entry.filename] = path
        if pairs_entry is not None:
            with archive.open(pairs_entry) as src:
                raw = src.read(MAX_PAIRS_BYTES + 1)  # unpacked size, whatever the header says
            if len(raw) > MAX_PAIRS_BYTES:
                raise InvalidParameterException(
                    f"pairs.csv in {name} is over {MAX_PAIRS_BYTES // 2**20} MiB"
                )
            text = raw.decode("utf-8", "replace")
            pairs = []
            base = pairs_entry.filename.rpartition("/")[0]
            for row in csv.reader(text.splitlines()):
                if len(row) < 3 or row[0].startswith("#") or row[2].strip().lower() == "same":
                    continue
                a, b = (f"{base}/{x.strip()}" if base else x.strip() for x in row[:2])
                if a not in paths or b not in paths:
                    raise InvalidParameterException(
                        f"pairs.csv names {a!r} or {b!r}, not in {name}"
                    )
                pairs.append((paths[a], paths[b], row[2].strip().lower() in ("1", "true", "yes")))
        else:
            who = {p: f.rpartition("/")[0] for f, p in paths.items()}
            if len(set(who.values())) < 2:
                raise InvalidParameterException(
                    f"{name} needs one folder per person (at least two), or a pairs.csv"
                )
            listed = sorted(paths.values())
            pairs = [(a, b, who[a] == who[b]) for i, a in enumerate(listed) for b in listed[i + 1:]]
            impostors = [p for p in pairs if not p[2]]
            if len(impostors) > MAX_IMPOSTOR_PAIRS:
                keep = set(random.Random(0).sample(range(len(impostors)), MAX_IMPOSTOR_PAIRS))
                impostors = [p for i, p in enumerate(impostors) if i in keep]
                pairs = [p for p in pairs if p[2]] + impostors
        embeddings = embed_files(rt, paths.values())
    failed = sum(e is None for e in embeddings.values())

    def similarity(a: Path, b: Path) -> float:
        ea, eb = embeddings[a], embeddings[b]
        if ea is None or eb is None:
            return -1.0  # no face found: never a match
        return rt.scoring.similarity_of(ea.data, [eb.data])[0]

    scored = [(similarity(a, b), same) for a, b, same in pairs]
    _audit(rt, caller, AuditEvent(
        operation="ConsoleEvaluateUpload",
        detail={"upload": name[:200], "images": len(paths), "pairs": len(pairs),
                "no_face": failed},
    ))
    report = _report([s for s, same in scored if same], [s for s, same in scored if not same])
    report.update(
        collection=None,
        upload=name,
        scoring=rt.scoring.version,
        faces=len(paths) - failed,
        labelled=len(paths),
        identities=None,
        capped=False,
    )
    return report
