"""What the HTTP layer costs: DetectFaces through boto3 → ``candor serve`` against the
in-process ``candor.Client``, same image, interleaved so both see the same machine load.

    python bench/http_overhead.py [--repeat 30] [--image PATH] [--workers N]
    python bench/http_overhead.py --clients 20 --seconds 20 --workers 2   # throughput
    python bench/http_overhead.py --operation SearchFacesByImage --size 640x480 --clients 8 --workers 2

Prints one markdown table (median and p90 latency in ms) and the ratio; the goal is ≤ 1.15×.
With ``--clients N``, also requests/s from N concurrent boto3 clients (one thread each,
keep-alive connections) over ``--seconds``, with every response checked (a face found; for
SearchFacesByImage, the enrolled face matched). ``--size WxH`` crops and scales the image to
that size first. SearchFacesByImage searches a collection holding the image's own face.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_IMAGE = Path(
    os.environ.get("CANDOR_SHARED_DATA", ROOT.parent / "shared" / "data")
) / "faces" / "smoke-face_recognition" / "examples" / "obama.jpg"


def start(data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str, str, str]:
    out = data_dir / "serve.out"
    with out.open("wb") as fh, (data_dir / "serve.err").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "candor.cli", "--data-dir", str(data_dir), "serve",
             "--port", "0", "--workers", str(workers)],
            stdout=fh, stderr=err,
        )
    for _ in range(900):
        text = out.read_text()
        url = re.search(r"listening on (\S+)", text)
        if url:
            key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", text)
            secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", text)
            assert key and secret
            return proc, url.group(1), key.group(1), secret.group(1)
        if proc.poll() is not None:
            sys.exit(f"candor serve exited: {(data_dir / 'serve.err').read_text()}")
        time.sleep(0.1)
    proc.kill()
    sys.exit("candor serve did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    parser.add_argument("--workers", type=int, default=0, help="server workers (0: one per CPU)")
    parser.add_argument("--clients", type=int, default=0, help="also measure N concurrent clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="throughput run length")
    parser.add_argument("--operation", choices=["DetectFaces", "SearchFacesByImage"],
                        default="DetectFaces")
    parser.add_argument("--size", default="", help="crop and scale the image to WxH first")
    args = parser.parse_args()

    import boto3
    from botocore.config import Config

    import candor

    image = args.image.read_bytes()
    if args.size:
        image = _sized(image, *(int(v) for v in args.size.split("x")))
    op = _snake(args.operation)
    extra = {"CollectionId": "bench"} if args.operation == "SearchFacesByImage" else {}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        proc, url, key, secret = start(data_dir, args.workers)
        try:
            rek = boto3.client(
                "rekognition", endpoint_url=url, region_name="us-east-1",
                aws_access_key_id=key, aws_secret_access_key=secret,
                config=Config(retries={"max_attempts": 1}),
            )
            local = candor.Client(data_dir=data_dir)
            if extra:  # the in-process client is the server's own account
                rek.create_collection(CollectionId="bench")
                rek.index_faces(CollectionId="bench", Image={"Bytes": image}, MaxFaces=1)

            # Load the models in every worker (concurrent calls land on different workers).
            workers = int(re.search(r"\((\d+) worker", (data_dir / "serve.out").read_text())
                          .group(1))  # type: ignore[union-attr]
            warm = [
                boto3.client("rekognition", endpoint_url=url, region_name="us-east-1",
                             aws_access_key_id=key, aws_secret_access_key=secret)
                for _ in range(workers)
            ]
            for _ in range(2):
                threads = [threading.Thread(target=getattr(c, op),
                                            kwargs={"Image": {"Bytes": image}, **extra})
                           for c in warm]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            for c in warm:
                c.close()
            getattr(rek, op)(Image={"Bytes": image}, **extra)
            getattr(local, op)(Image={"Bytes": image}, **extra)

            times: dict[str, list[float]] = {"http": [], "inproc": []}
            calls: dict[str, Any] = {"http": getattr(rek, op), "inproc": getattr(local, op)}
            for _ in range(args.repeat):
                for name, call in calls.items():
                    started = time.perf_counter()
                    call(Image={"Bytes": image}, **extra)
                    times[name].append((time.perf_counter() - started) * 1000)
            rek.close()
            throughput = (
                _throughput(url, key, secret, image, op, extra, args.clients, args.seconds)
                if args.clients else None
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)

    med = {k: statistics.median(v) for k, v in times.items()}
    p90 = {k: percentile(v, 0.9) for k, v in times.items()}
    print(f"{args.operation} on {args.image.name}{' at ' + args.size if args.size else ''} "
          f"({len(image):,} bytes), {args.repeat} calls each, "
          f"interleaved; server with {workers} workers\n")
    print("| path | median ms | p90 ms |")
    print("|---|---:|---:|")
    print(f"| in-process candor.Client | {med['inproc']:.1f} | {p90['inproc']:.1f} |")
    print(f"| boto3 → candor serve (HTTP, SigV4) | {med['http']:.1f} | {p90['http']:.1f} |")
    ratio = med["http"] / med["inproc"]
    print(f"\nratio (median): {ratio:.3f}× (goal ≤ 1.15×); "
          f"overhead {med['http'] - med['inproc']:.1f} ms per call")
    if throughput is not None:
        done, failed, seconds = throughput
        print(f"\n{args.clients} concurrent boto3 clients, {seconds:.1f} s: {done} {args.operation} "
              f"answered ({failed} failed) = {done / seconds:.2f} requests/s")
    return 0


def _sized(data: bytes, width: int, height: int) -> bytes:
    import io

    from PIL import Image, ImageOps

    out = io.BytesIO()
    # Crop towards the top, where portraits keep the face.
    ImageOps.fit(Image.open(io.BytesIO(data)).convert("RGB"), (width, height), centering=(0.5, 0.2)).save(
        out, "JPEG", quality=90
    )
    return out.getvalue()


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _answered(response: dict[str, Any]) -> bool:
    if "FaceMatches" in response:
        return bool(response["FaceMatches"])
    return bool(response["FaceDetails"])


def _throughput(
    url: str, key: str, secret: str, image: bytes, op: str, extra: dict[str, str],
    clients: int, seconds: float,
) -> tuple[int, int, float]:
    import boto3
    from botocore.config import Config

    stop = time.monotonic() + seconds
    counts = [0] * clients
    failures = [0] * clients

    def loop(i: int) -> None:
        rek = boto3.client(
            "rekognition", endpoint_url=url, region_name="us-east-1",
            aws_access_key_id=key, aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}, read_timeout=120,
                          max_pool_connections=1),
        )
        while time.monotonic() < stop:
            try:
                if _answered(getattr(rek, op)(Image={"Bytes": image}, **extra)):
                    counts[i] += 1
                else:
                    failures[i] += 1
            except Exception:
                failures[i] += 1
        rek.close()

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), sum(failures), time.monotonic() - started


if __name__ == "__main__":
    sys.exit(main())
