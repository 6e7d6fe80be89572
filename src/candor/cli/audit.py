"""``candor audit`` (verify, export, checkpoint) and ``candor reap`` (retention)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from candor import audit


def cmd_audit(args: argparse.Namespace, rt: Any) -> int:
    action = args.audit_command
    with rt.catalog.transaction() as tx:
        if action == "export":
            out = open(args.out, "w") if args.out else sys.stdout
            try:
                n = 0
                for record in tx.audit_records(since=args.since):
                    out.write(json.dumps(record.fields(), sort_keys=True) + "\n")
                    n += 1
            finally:
                if args.out:
                    out.close()
            print(f"exported {n} record(s)", file=sys.stderr)
            return 0
        records = list(tx.audit_records())
    verdict = audit.verify(records)
    if action == "checkpoint":
        if not verdict.ok or verdict.head is None:
            print(f"error: not checkpointing a broken or empty log: {verdict.reason or 'empty'}",
                  file=sys.stderr)
            return 1
        checkpoint = audit.make_checkpoint(rt.settings.data_dir, verdict.head)
        from candor.console.work import write_checkpoint

        write_checkpoint(rt, checkpoint)  # the console shows the last one
        text = json.dumps(checkpoint, indent=2)
        if args.out:
            Path(args.out).write_text(text + "\n")
            print(f"checkpoint of record {verdict.head[0]} written to {args.out}; keep a copy "
                  "where this server cannot write", file=sys.stderr)
        else:
            print(text)
        return 0
    if not verdict.ok:
        print(f"BROKEN at record {verdict.first_bad}: {verdict.reason} "
              f"({verdict.records} record(s) before it verified)")
        return 1
    for path in args.checkpoint or []:
        problem = audit.check_checkpoint(json.loads(Path(path).read_text()), records)
        if problem:
            print(f"BROKEN: checkpoint {path}: {problem}")
            return 1
    head = f"; head {verdict.head[0]} {verdict.head[1][:16]}…" if verdict.head else ""
    checked = f", {len(args.checkpoint)} checkpoint(s) match" if args.checkpoint else ""
    print(f"ok: {verdict.records} record(s) verified{head}{checked}")
    return 0


def cmd_reap(args: argparse.Namespace, rt: Any) -> int:
    from candor.services.retention import purge_expired

    removed = purge_expired(rt)
    total = sum(removed.values())
    for arn, n in removed.items():
        print(f"{arn}: {n} expired face(s) deleted")
    print(f"{total} face(s) past their collection's retention deleted")
    from candor.services.video import reap_jobs

    print(f"{reap_jobs(rt)} finished video job(s) past CANDOR_JOB_RETENTION_DAYS deleted")
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "audit",
        help="verify, export or checkpoint the audit log",
        description="The audit log is a hash chain with one record per biometric operation. "
        "verify names the first altered, missing or reordered record; checkpoint writes a signed "
        "(Ed25519) statement of the chain head to keep elsewhere; verify --checkpoint FILE checks "
        "the chain still has that head.",
    )
    actions = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = actions.add_parser("verify", help="check the whole chain (and checkpoints)")
    v.add_argument("--checkpoint", action="append", metavar="FILE",
                   help="a checkpoint file written earlier; may be repeated")
    e = actions.add_parser("export", help="write records as JSON lines")
    e.add_argument("--since", help="only records at or after this ISO time, e.g. 2026-11-01")
    e.add_argument("--out", help="file to write (default: standard output)")
    c = actions.add_parser("checkpoint", help="sign the current chain head (a copy stays in "
                          "DATA_DIR/audit-checkpoints for the console)")
    c.add_argument("--out", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_audit, needs_runtime=True)

    p = sub.add_parser(
        "reap",
        help="delete faces past their collection's candor:retention-days",
        description="Delete every face older than its collection's candor:retention-days tag; "
        "each purge is audited. candor serve also runs this periodically.",
    )
    p.set_defaults(func=cmd_reap, needs_runtime=True)
