"""One typed settings object, built once from ``CANDOR_*`` environment variables.

Every field carries its default and a line of help in its metadata; the README's settings table
is checked against these by ``tests/test_docs.py``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from candor.errors import ConfigurationError

ENV_PREFIX = "CANDOR_"

DETECTORS = ("mtcnn", "hog", "cnn", "hog+cnn")


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "candor"


def _setting(default: Any, help: str, **kwargs: Any) -> Any:
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Build with :meth:`from_env`, or directly in tests."""

    data_dir: Path = field(
        default_factory=_default_data_dir,
        metadata={
            "help": "Directory for the database, model files and local media buckets "
            "(default: $XDG_DATA_HOME/candor or ~/.local/share/candor)."
        },
    )
    face_detector: str = _setting(
        "mtcnn",
        "Face detector: 'mtcnn' (ONNX, finds partial and tilted faces), 'hog' (dlib HOG, "
        "frontal only), 'cnn' (dlib MMOD, slow on CPU) or 'hog+cnn' (MMOD only where HOG "
        "finds nothing).",
    )
    min_face_size: int = _setting(
        40,
        "Smallest face MTCNN looks for, in pixels of an image up to 1920x1080; for larger "
        "images it grows in proportion, as Rekognition documents for its own detector.",
    )
    face_mirror_check: float = _setting(
        0.8,
        "MTCNN keeps a face only if O-Net also gives its mirror image at least this face "
        "probability; it cuts the dog eyes, monkeys and bottles O-Net takes for faces "
        "(bench/detection.py). 0 turns the check off.",
    )
    hog_upsample: int = _setting(
        1, "Times the HOG detector upsamples the image; 1 finds faces down to about 40 px."
    )
    landmarks_68: bool = _setting(
        False,
        "Enable dlib's 68-point landmark model (trained on iBUG 300-W, non-commercial licence): "
        "adds the extra landmark types, EyesOpen and MouthOpen to Attributes=['ALL'].",
    )
    max_image_pixels: int = _setting(
        36_000_000, "Largest image, in pixels, that will be decoded; larger ones are refused."
    )
    max_detect_pixels: int = _setting(
        4_000_000,
        "Images with more pixels are downscaled to this size for face detection; landmarks and "
        "descriptors still use the full image.",
    )
    region: str = _setting(
        "us-east-1",
        "Region named in collection ARNs (arn:aws:rekognition:REGION:ACCOUNT:collection/ID); "
        "requests signed for any region are accepted.",
    )
    reaper_interval: int = _setting(
        3600,
        "Seconds between runs of the retention reaper inside `candor serve` (0 turns it off; "
        "`candor reap` runs it once).",
    )
    database_url: str | None = _setting(
        None,
        "Where collections, faces, keys, audit and jobs live: unset for SQLite in DATA_DIR "
        "(one machine), or postgresql://USER:PASSWORD@HOST/DB for PostgreSQL, which any number "
        "of API and worker processes on any machines can share (pip install 'candor[postgres]').",
    )
    vector_index: str = _setting(
        "memory",
        "Where face search finds its nearest neighbours: 'memory' (an index in each process, "
        "built from the database and caught up before every search; fastest up to a few "
        "million faces per machine) or 'pgvector' (HNSW inside PostgreSQL, needs "
        "CANDOR_DATABASE_URL and the vector extension; no per-process copy).",
    )
    database_pool: int = _setting(
        8, "Most PostgreSQL connections one process keeps open (with CANDOR_DATABASE_URL)."
    )
    media_root: Path | None = _setting(
        None, "Directory holding one folder per S3 bucket (default: DATA_DIR/media)."
    )
    shared_buckets: str = _setting(
        "",
        "Comma-separated buckets of the admin account that every account may read (by default "
        "an account reads only its own: DATA_DIR/media/@accounts/ACCOUNT/BUCKET).",
    )
    s3_endpoint_url: str | None = _setting(
        None,
        "When set, S3Object inputs are read from this S3-compatible endpoint through boto3 "
        "instead of local folders.",
    )
    metrics: str = _setting(
        "loopback",
        "Who may read GET /metrics (Prometheus text format): 'loopback' (clients on this "
        "machine), 'on' (anyone who reaches the port: it shows request counts and how many "
        "collections and faces all accounts hold) or 'off'.",
    )
    host: str = _setting(
        "127.0.0.1",
        "Address `candor serve` binds; the loopback default keeps it private to this machine.",
    )
    port: int = _setting(8085, "TCP port `candor serve` listens on (0 picks a free one).")
    max_connections: int = _setting(
        256,
        "Connections or requests `candor serve` takes at once; past it, new requests get 503.",
    )
    keep_alive: int = _setting(
        60, "Seconds an idle keep-alive connection to `candor serve` stays open."
    )
    request_deadline: float = _setting(
        60.0,
        "Seconds a request body may take to arrive in full (then 408 RequestTimeoutException).",
    )
    workers: int = _setting(
        0, "Worker processes that run the models for `candor serve` (0: one per CPU core)."
    )
    job_workers: int = _setting(
        1,
        "Video-job workers `candor serve` runs beside its request workers (0: none, leave the "
        "jobs to `candor worker` processes).",
    )
    video_sample_rate: float = _setting(
        2.0, "Frames per second of video that face and label detection analyse (at least 2)."
    )
    video_threads: int = _setting(
        2,
        "Threads one video job analyses sampled frames on, in order (decoding runs beside "
        "them); 1 analyses one frame at a time.",
    )
    max_video_bytes: int = _setting(
        10 * 1024**3, "Largest stored video, in bytes (Rekognition's limit: 10 GB)."
    )
    console: bool = _setting(
        True, "Serve the web console at /console (sign-in with an API key; off with 0)."
    )
    face_thumbnails: bool = _setting(
        False,
        "Keep a small JPEG (at most 96 px) of each face IndexFaces adds, shown by the web console "
        "and deleted with the face. Off by default: like Rekognition, Candor stores no face "
        "images unless the operator opts in.",
    )
    console_session_hours: float = _setting(
        8.0, "Hours a web console sign-in lasts before it must sign in again."
    )
    max_video_seconds: float = _setting(
        6 * 3600.0, "Longest stored video, in seconds (Rekognition's limit: 6 hours)."
    )
    job_stale_after: float = _setting(
        120.0,
        "Seconds without a heartbeat after which a video job's worker counts as dead and "
        "another worker restarts the job.",
    )
    job_retention_days: float = _setting(
        7.0, "Days a finished video job and its results are kept (Rekognition keeps 7)."
    )

    @property
    def media_dir(self) -> Path:
        return self.media_root if self.media_root is not None else self.data_dir / "media"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    def __post_init__(self) -> None:
        if self.face_detector not in DETECTORS:
            raise ConfigurationError(
                f"face_detector must be one of {', '.join(DETECTORS)}, got {self.face_detector!r}"
            )
        if not 0 <= self.hog_upsample <= 3:
            raise ConfigurationError(f"hog_upsample must be 0..3, got {self.hog_upsample}")
        if not 0.0 <= self.face_mirror_check < 1.0:
            raise ConfigurationError(
                f"face_mirror_check must be 0 (off) up to below 1, got {self.face_mirror_check}"
            )
        if not 12 <= self.min_face_size <= 1000:
            raise ConfigurationError(f"min_face_size must be 12..1000, got {self.min_face_size}")
        if self.max_image_pixels < 80 * 80:
            raise ConfigurationError("max_image_pixels must be at least 6400")
        if not 0 <= self.port <= 65535:
            raise ConfigurationError(f"port must be 0..65535, got {self.port}")
        if not 0.05 <= self.console_session_hours <= 24 * 30:
            raise ConfigurationError(
                f"console_session_hours must be 0.05..720, got {self.console_session_hours}"
            )
        if self.metrics not in ("off", "loopback", "on"):
            raise ConfigurationError(f"metrics must be off, loopback or on, got {self.metrics!r}")
        if not 1 <= self.video_threads <= 64:
            raise ConfigurationError(f"video_threads must be 1..64, got {self.video_threads}")
        if self.video_sample_rate < 2.0 or self.video_sample_rate > 60.0:
            raise ConfigurationError(
                f"video_sample_rate must be 2..60 frames per second, got {self.video_sample_rate}"
            )
        if self.database_url is not None and not self.database_url.startswith(
            ("postgresql://", "postgres://")
        ):
            raise ConfigurationError(
                "database_url must be a postgresql:// URL (leave it unset for SQLite in the "
                f"data directory), got {self.database_url.split('://')[0]!r}://…"
            )
        if self.vector_index not in ("memory", "pgvector"):
            raise ConfigurationError(
                f"vector_index must be memory or pgvector, got {self.vector_index!r}"
            )
        if self.vector_index == "pgvector" and not self.database_url:
            raise ConfigurationError(
                "vector_index pgvector searches inside PostgreSQL: set database_url too"
            )
        if not 1 <= self.database_pool <= 1000:
            raise ConfigurationError(f"database_pool must be 1..1000, got {self.database_pool}")
        if self.job_workers < 0:
            raise ConfigurationError(f"job_workers must be 0 or more, got {self.job_workers}")
        if self.workers < 0:
            raise ConfigurationError(f"workers must be 0 (one per CPU) or more, got {self.workers}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``CANDOR_<FIELD>`` variables; explicit keyword overrides win."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _coerce(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = str(f.type)
    try:
        if "Path" in kind:
            return Path(raw).expanduser()
        if kind == "bool":
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigurationError(
            f"{ENV_PREFIX}{f.name.upper()} must be a {kind}, got {raw!r}"
        ) from None
    return raw


def settings_help() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting, for docs and ``--help``."""
    rows = []
    for f in dataclasses.fields(Settings):
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        else:
            default = "(computed)"
        rows.append((ENV_PREFIX + f.name.upper(), default, f.metadata["help"]))
    return rows
