"""Where ``S3Object`` inputs come from: a folder per bucket (default) or an S3-compatible
endpoint through boto3."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from candor.errors import ImageTooLargeException, InvalidS3ObjectException

_BUCKET_RE = re.compile(r"^[0-9A-Za-z.\-_]{3,255}$")


@dataclass(frozen=True)
class S3Ref:
    bucket: str
    name: str
    version: str | None = None

    @classmethod
    def parse_uri(cls, uri: str) -> S3Ref:
        """``s3://bucket/key`` → S3Ref."""
        if not uri.startswith("s3://"):
            raise ValueError(f"not an s3:// URI: {uri!r}")
        bucket, _, key = uri[5:].partition("/")
        if not bucket or not key:
            raise ValueError(f"an s3:// URI needs a bucket and a key, got {uri!r}")
        return cls(bucket=bucket, name=key)


class MediaSource(Protocol):
    def read(self, ref: S3Ref, *, max_bytes: int) -> bytes:
        """The object's bytes; InvalidS3ObjectException if it can't be read."""
        ...


def _check_ref(ref: S3Ref) -> None:
    if not _BUCKET_RE.match(ref.bucket):
        raise InvalidS3ObjectException(
            f"S3Object.Bucket {ref.bucket!r} is not a valid bucket name "
            "(3-255 characters from A-Z, a-z, 0-9, '.', '-', '_')"
        )
    if not 1 <= len(ref.name) <= 1024:
        raise InvalidS3ObjectException("S3Object.Name must be 1-1024 characters long")


class LocalMediaSource:
    """Buckets are folders under ``root``; keys are paths inside them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, ref: S3Ref) -> Path:
        _check_ref(ref)
        bucket_dir = (self.root / ref.bucket).resolve()
        path = (bucket_dir / ref.name).resolve()
        if bucket_dir not in path.parents:
            raise InvalidS3ObjectException(
                f"S3Object.Name {ref.name!r} points outside bucket {ref.bucket!r}"
            )
        return path

    def read(self, ref: S3Ref, *, max_bytes: int) -> bytes:
        path = self.path_for(ref)
        if ref.version is not None:
            raise InvalidS3ObjectException(
                "S3Object.Version is not supported by the local media source; omit it"
            )
        if not path.is_file():
            raise InvalidS3ObjectException(
                f"Unable to get object s3://{ref.bucket}/{ref.name}: no such object "
                f"(local media source looks in {self.root / ref.bucket})"
            )
        size = path.stat().st_size
        if size > max_bytes:
            raise ImageTooLargeException(
                f"s3://{ref.bucket}/{ref.name} is {size:,} bytes; the limit for S3 objects is "
                f"{max_bytes:,} bytes"
            )
        with path.open("rb") as fh:
            return fh.read(max_bytes + 1)


class S3MediaSource:
    """Reads objects from any S3-compatible endpoint; credentials come from boto3's usual chain."""

    def __init__(self, endpoint_url: str) -> None:
        import boto3  # imported here: boto3 is only needed when this source is configured

        self._s3: Any = boto3.client("s3", endpoint_url=endpoint_url)

    def read(self, ref: S3Ref, *, max_bytes: int) -> bytes:
        _check_ref(ref)
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, str] = {"Bucket": ref.bucket, "Key": ref.name}
        if ref.version is not None:
            kwargs["VersionId"] = ref.version
        try:
            head = self._s3.head_object(**kwargs)
            if int(head["ContentLength"]) > max_bytes:
                raise ImageTooLargeException(
                    f"s3://{ref.bucket}/{ref.name} is {head['ContentLength']:,} bytes; the limit "
                    f"for S3 objects is {max_bytes:,} bytes"
                )
            body: bytes = self._s3.get_object(**kwargs)["Body"].read(max_bytes + 1)
        except (ClientError, BotoCoreError) as exc:
            raise InvalidS3ObjectException(
                f"Unable to get object s3://{ref.bucket}/{ref.name}: {exc}"
            ) from None
        return body
