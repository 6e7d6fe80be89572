"""API keys: create, list, revoke, and the secret lookup SigV4 verification needs.

SigV4 is an HMAC, so the server must hold each key's secret, not a hash of it. Secrets are sealed
with AES-256-GCM under a master key kept in ``DATA_DIR/master.key`` (mode 0600, created on first
use); the access key id is the associated data, so a sealed secret copied onto another key's row
does not open. A database dump alone reveals no secret. Processes that share one PostgreSQL
database must share that file too (mount it from one secret on every machine).

    >>> ring = KeyRing.open(Settings(data_dir=Path("/var/lib/candor")))
    >>> new = ring.create(account="analytics")
    >>> new.access_key_id, new.secret          # the secret is shown once, never stored in clear
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from candor.errors import ConfigurationError
from candor.private import private_dir
from candor.storage.base import KeyStore, StoredKey

if TYPE_CHECKING:
    from candor.config import Settings

MASTER_KEY_NAME = "master.key"
ADMIN_ACCOUNT = "admin"
KEY_ID_PREFIX = "CNDR"
_KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_NONCE_BYTES = 12


@dataclass(frozen=True)
class NewKey:
    access_key_id: str
    secret: str
    account: str
    is_admin: bool


@dataclass(frozen=True)
class Principal:
    """Who signed a request: the key, its account, and the secret to check the signature."""

    access_key_id: str
    account_id: str
    account_name: str
    is_admin: bool
    secret: str


def load_master_key(data_dir: Path, *, create: bool = True) -> bytes:
    """The 32-byte master key; created (0600, never overwritten) when missing and ``create``."""
    path = data_dir / MASTER_KEY_NAME
    if not path.exists() and create:
        private_dir(data_dir)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first; read theirs
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
                fh.flush()
                os.fsync(fh.fileno())
    try:
        mode = path.stat().st_mode
        key = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"master key {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"master key {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    if len(key) != 32:
        raise ConfigurationError(f"master key {path} must hold 32 bytes, found {len(key)}")
    return key


def new_access_key_id() -> str:
    """20 characters like AWS's (``AKIA`` + 16), so tools that check the format accept it."""
    return KEY_ID_PREFIX + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16))


class KeyRing:
    """Keys in a :class:`KeyStore`, secrets sealed with the master key."""

    def __init__(self, store: KeyStore, master_key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.store = store
        self._aead = AESGCM(master_key)

    @classmethod
    def open(cls, settings: Settings) -> KeyRing:
        """The keys in the settings' database, sealed with ``DATA_DIR/master.key``."""
        from candor.storage import open_store

        return cls(open_store(settings), load_master_key(settings.data_dir))

    def _seal(self, access_key_id: str, secret: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode(), access_key_id.encode())

    def _open(self, key: StoredKey) -> str:
        from cryptography.exceptions import InvalidTag

        nonce, sealed = key.sealed_secret[:_NONCE_BYTES], key.sealed_secret[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, sealed, key.access_key_id.encode()).decode()
        except InvalidTag:
            raise ConfigurationError(
                f"the secret of key {key.access_key_id} does not open with "
                f"{MASTER_KEY_NAME}: the master key was replaced or the row was altered"
            ) from None

    def create(self, account: str = ADMIN_ACCOUNT, *, is_admin: bool = False) -> NewKey:
        acct = self.store.account(account, create=True)
        assert acct is not None  # create=True always returns one
        key_id = new_access_key_id()
        secret = secrets.token_urlsafe(30)  # 40 characters, like an AWS secret key
        self.store.add_key(
            access_key_id=key_id,
            account_id=acct.id,
            sealed_secret=self._seal(key_id, secret),
            is_admin=is_admin,
        )
        return NewKey(access_key_id=key_id, secret=secret, account=account, is_admin=is_admin)

    def principal(self, access_key_id: str) -> Principal | None:
        """The active key's principal, read fresh from the store; None if unknown or revoked."""
        key = self.store.key(access_key_id)
        if key is None or not key.active:
            return None
        return Principal(
            access_key_id=key.access_key_id,
            account_id=key.account_id,
            account_name=key.account_name,
            is_admin=key.is_admin,
            secret=self._open(key),
        )

    def list(self) -> list[StoredKey]:
        return self.store.keys()

    def revoke(self, access_key_id: str) -> StoredKey | None:
        return self.store.revoke_key(access_key_id)

    def is_empty(self) -> bool:
        return self.store.count_keys() == 0


def usage(key: NewKey, endpoint: str, region: str = "us-east-1") -> str:
    """How to use ``key`` from the AWS CLI and boto3, for printing once after it is created."""
    return f"""\
Access key for account {key.account!r}{" (admin)" if key.is_admin else ""}. \
The secret is shown only now; store it safely.

  AWS CLI (or any SDK) through the environment:
    export AWS_ACCESS_KEY_ID={key.access_key_id}
    export AWS_SECRET_ACCESS_KEY={key.secret}
    export AWS_DEFAULT_REGION={region}
    aws rekognition detect-faces --endpoint-url {endpoint} --image-bytes fileb://photo.jpg

  or a named profile:
    aws configure set aws_access_key_id {key.access_key_id} --profile candor
    aws configure set aws_secret_access_key {key.secret} --profile candor
    aws configure set region {region} --profile candor

  boto3:
    import boto3
    rek = boto3.client("rekognition", endpoint_url="{endpoint}", region_name="{region}",
                       aws_access_key_id="{key.access_key_id}",
                       aws_secret_access_key="{key.secret}")
    rek.detect_faces(Image={{"Bytes": open("photo.jpg", "rb").read()}})
"""
