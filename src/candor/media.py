"""Where ``S3Object`` inputs come from: a folder per bucket (default) or an S3-compatible
endpoint through boto3.

Buckets belong to accounts. The admin account's (the operator's, which the CLI and the
in-process client act for) are the folders directly under the media root; another account's
live under ``MEDIA_ROOT/@accounts/<account>/`` (no bucket name can start with '@'). Buckets the
operator names in ``CANDOR_SHARED_BUCKETS`` are the admin's and readable by every account. A
bucket an account may not read looks exactly like a missing one, and no message names a path
on the server."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from candor.errors import ImageTooLargeException, InvalidS3ObjectException, VideoTooLargeException
from candor.types import LOCAL_ACCOUNT

_BUCKET_RE = re.compile(r"^[0-9A-Za-z.\-_]{3,255}$")
_ACCOUNT_RE = re.compile(r"^[0-9A-Za-z.\-_]{1,128}$")
ACCOUNTS_DIR = "@accounts"
# Longest key component most file systems take (NAME_MAX); S3 itself allows longer ones.
MAX_COMPONENT_BYTES = 255


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
    def read(self, ref: S3Ref, *, max_bytes: int, account: str = LOCAL_ACCOUNT) -> bytes:
        """The object's bytes as ``account`` may read them; InvalidS3ObjectException if it
        can't be read (or is in a bucket the account may not read)."""
        ...

    def local_file(
        self, ref: S3Ref, *, max_bytes: int, account: str = LOCAL_ACCOUNT
    ) -> AbstractContextManager[Path]:
        """A local path holding the object while the context lasts (videos: decoded from a file,
        not held in memory); VideoTooLargeException past ``max_bytes``."""
        ...

    def write(self, ref: S3Ref, data: bytes, *, account: str = LOCAL_ACCOUNT) -> None:
        """Store ``data`` as the object, replacing any; only in the account's own existing
        buckets (shared buckets are read-only to other accounts). InvalidS3ObjectException
        if it cannot be written."""
        ...


def _too_large(ref: S3Ref, size: int, max_bytes: int) -> VideoTooLargeException:
    return VideoTooLargeException(
        f"s3://{ref.bucket}/{ref.name} is {size:,} bytes; the limit for stored videos is "
        f"{max_bytes:,} bytes"
    )


def _check_ref(ref: S3Ref) -> None:
    if not _BUCKET_RE.match(ref.bucket):
        raise InvalidS3ObjectException(
            f"S3Object.Bucket {ref.bucket!r} is not a valid bucket name "
            "(3-255 characters from A-Z, a-z, 0-9, '.', '-', '_')"
        )
    if not 1 <= len(ref.name) <= 1024:
        raise InvalidS3ObjectException("S3Object.Name must be 1-1024 characters long")
    if "\x00" in ref.name:
        raise InvalidS3ObjectException("S3Object.Name must not contain a NUL character")


def _missing(ref: S3Ref) -> InvalidS3ObjectException:
    return InvalidS3ObjectException(
        f"Unable to get object s3://{ref.bucket}/{ref.name}: no such object, or no such bucket "
        "for this account"
    )


class LocalMediaSource:
    """Buckets are folders under ``root`` (see the module docstring); keys are paths in them."""

    def __init__(self, root: Path, shared: frozenset[str] = frozenset()) -> None:
        self.root = root
        self.shared = shared

    def bucket_dir(self, bucket: str, account: str) -> Path:
        """Where ``account``'s bucket would be (whether or not it exists)."""
        if account == LOCAL_ACCOUNT:
            return self.root / bucket
        if not _ACCOUNT_RE.match(account):
            raise InvalidS3ObjectException(f"Account {account!r} cannot own a local bucket")
        own = self.root / ACCOUNTS_DIR / account / bucket
        if bucket in self.shared and not own.is_dir():
            return self.root / bucket
        return own

    def path_for(self, ref: S3Ref, account: str = LOCAL_ACCOUNT) -> Path:
        _check_ref(ref)
        if any(len(part.encode()) > MAX_COMPONENT_BYTES for part in ref.name.split("/")):
            raise InvalidS3ObjectException(
                f"S3Object.Name has a path component over {MAX_COMPONENT_BYTES} bytes, which the "
                "local media source cannot hold"
            )
        try:
            bucket_dir = self.bucket_dir(ref.bucket, account).resolve()
            path = (bucket_dir / ref.name).resolve()
        except (OSError, RuntimeError, ValueError):  # a symlink loop, or a name the OS refuses
            raise _missing(ref) from None
        if bucket_dir not in path.parents:
            raise InvalidS3ObjectException(
                f"S3Object.Name {ref.name!r} points outside bucket {ref.bucket!r}"
            )
        return path

    def read(self, ref: S3Ref, *, max_bytes: int, account: str = LOCAL_ACCOUNT) -> bytes:
        path = self.path_for(ref, account)
        if ref.version is not None:
            raise InvalidS3ObjectException(
                "S3Object.Version is not supported by the local media source; omit it"
            )
        try:
            if not path.is_file():
                raise _missing(ref)
            size = path.stat().st_size
            if size > max_bytes:
                raise ImageTooLargeException(
                    f"s3://{ref.bucket}/{ref.name} is {size:,} bytes; the limit for S3 objects "
                    f"is {max_bytes:,} bytes"
                )
            with path.open("rb") as fh:
                return fh.read(max_bytes + 1)
        except OSError as exc:  # unreadable, vanished, or a directory loop met while opening
            raise InvalidS3ObjectException(
                f"Unable to get object s3://{ref.bucket}/{ref.name}: {exc.strerror or 'unreadable'}"
            ) from None


    @contextmanager
    def local_file(
        self, ref: S3Ref, *, max_bytes: int, account: str = LOCAL_ACCOUNT
    ) -> Iterator[Path]:
        path = self.path_for(ref, account)
        if ref.version is not None:
            raise InvalidS3ObjectException(
                "S3Object.Version is not supported by the local media source; omit it"
            )
        try:
            if not path.is_file():
                raise _missing(ref)
            size = path.stat().st_size
        except OSError as exc:
            raise InvalidS3ObjectException(
                f"Unable to get object s3://{ref.bucket}/{ref.name}: {exc.strerror or 'unreadable'}"
            ) from None
        if size > max_bytes:
            raise _too_large(ref, size, max_bytes)
        yield path


    def write(self, ref: S3Ref, data: bytes, *, account: str = LOCAL_ACCOUNT) -> None:
        _check_ref(ref)
        own = self.root / ref.bucket if account == LOCAL_ACCOUNT else None
        if own is None:
            if not _ACCOUNT_RE.match(account):
                raise InvalidS3ObjectException(f"Account {account!r} cannot own a local bucket")
            own = self.root / ACCOUNTS_DIR / account / ref.bucket
        if not own.is_dir():
            raise InvalidS3ObjectException(
                f"Unable to write s3://{ref.bucket}/{ref.name}: no such bucket for this account"
            )
        path = self.path_for(ref, account)
        if own.resolve() not in path.parents:  # a shared bucket of the same name
            raise InvalidS3ObjectException(
                f"Unable to write s3://{ref.bucket}/{ref.name}: the bucket is read-only here"
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.candor-tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # readers never see half a file
        except OSError as exc:
            raise InvalidS3ObjectException(
                f"Unable to write s3://{ref.bucket}/{ref.name}: {exc.strerror or 'not writable'}"
            ) from None


_REFUSED = {"403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch",
            "InvalidToken", "ExpiredToken"}


def _s3_error(ref: S3Ref, exc: Exception) -> InvalidS3ObjectException:
    """InvalidS3ObjectException, saying whether the endpoint refused Candor's credentials."""
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    if code in _REFUSED:
        return InvalidS3ObjectException(
            f"Unable to get object s3://{ref.bucket}/{ref.name}: the S3 endpoint refused the "
            f"server's credentials ({code}); check the AWS credentials Candor runs with and "
            "that they may read this bucket"
        )
    return InvalidS3ObjectException(f"Unable to get object s3://{ref.bucket}/{ref.name}: {exc}")


class S3MediaSource:
    """Reads objects from any S3-compatible endpoint; credentials come from boto3's usual chain."""

    def __init__(self, endpoint_url: str, shared: frozenset[str] = frozenset()) -> None:
        import boto3  # imported here: boto3 is only needed when this source is configured
        from botocore.config import Config

        # Bounded: an endpoint that is down or slow fails the request, it does not hang it.
        config = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2})
        self._s3: Any = boto3.client("s3", endpoint_url=endpoint_url, config=config)
        self.shared = shared

    def read(self, ref: S3Ref, *, max_bytes: int, account: str = LOCAL_ACCOUNT) -> bytes:
        _check_ref(ref)
        # The store's credentials are the operator's: other accounts read only what the
        # operator shares with them.
        if account != LOCAL_ACCOUNT and ref.bucket not in self.shared:
            raise _missing(ref)
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
            raise _s3_error(ref, exc) from None
        return body

    @contextmanager
    def local_file(
        self, ref: S3Ref, *, max_bytes: int, account: str = LOCAL_ACCOUNT
    ) -> Iterator[Path]:
        _check_ref(ref)
        if account != LOCAL_ACCOUNT and ref.bucket not in self.shared:
            raise _missing(ref)
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, str] = {"Bucket": ref.bucket, "Key": ref.name}
        if ref.version is not None:
            kwargs["VersionId"] = ref.version
        with tempfile.TemporaryDirectory(prefix="candor-video-") as tmp:
            path = Path(tmp) / "video"
            try:
                size = int(self._s3.head_object(**kwargs)["ContentLength"])
                if size > max_bytes:
                    raise _too_large(ref, size, max_bytes)
                extra = {"VersionId": ref.version} if ref.version is not None else None
                self._s3.download_file(ref.bucket, ref.name, str(path), ExtraArgs=extra)
            except (ClientError, BotoCoreError) as exc:
                raise _s3_error(ref, exc) from None
            yield path

    def write(self, ref: S3Ref, data: bytes, *, account: str = LOCAL_ACCOUNT) -> None:
        _check_ref(ref)
        if account != LOCAL_ACCOUNT:  # the store's credentials are the operator's
            raise InvalidS3ObjectException(
                f"Unable to write s3://{ref.bucket}/{ref.name}: no such bucket for this account"
            )
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._s3.put_object(Bucket=ref.bucket, Key=ref.name, Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise InvalidS3ObjectException(
                f"Unable to write s3://{ref.bucket}/{ref.name}: {exc}"
            ) from None
