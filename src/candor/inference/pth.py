"""Read a PyTorch ``.pth`` state dict into numpy arrays, without torch.

Only the legacy serialization (``torch.save(..., _use_new_zipfile_serialization=False)``, the
default before PyTorch 1.6) is read; it is five pickle streams in a row — magic number, protocol
version, system info, the object itself, the list of storage keys — followed by each storage's
raw bytes (an int64 element count, then the elements). The object refers to storages by
persistent id and rebuilds tensors with ``torch._utils._rebuild_tensor_v2``.

The unpickler is restricted: it resolves only an ordered dict, that rebuild function and the
storage types, so a crafted file can name no other callable. Tensors come back as views
(``as_strided``) into the storages, copied into contiguous arrays.

    >>> weights = read_state_dict(Path("mobilenet_v2-b0353104.pth"))
    >>> weights["classifier.1.weight"].shape
    (1000, 1280)
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from candor.errors import ConfigurationError

_MAGIC = 0x1950A86A20F9469CFC6C
_PROTOCOL = 1001

_STORAGE_DTYPES: dict[str, str] = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


@dataclass(frozen=True)
class _StorageType:
    dtype: str


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: str
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(
    storage: _StorageRef,
    storage_offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    *_ignored: Any,
) -> _TensorRef:
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a .pth file")

    def persistent_load(self, pid: Any) -> _StorageRef:
        # ('storage', storage_type, key, location, numel, view_metadata)
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        kind = pid[1]
        if not isinstance(kind, _StorageType):
            raise pickle.UnpicklingError(f"unexpected storage type {kind!r}")
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        return _StorageRef(key=str(pid[2]), dtype=kind.dtype, numel=int(pid[4]))


def _load(stream: io.BytesIO) -> Any:
    return _RestrictedUnpickler(stream).load()


def read_state_dict(path: Path) -> dict[str, NDArray[Any]]:
    """Every tensor of a legacy-format ``.pth`` state dict, by name, as a numpy array."""
    data = path.read_bytes()
    if data[:2] == b"PK":
        raise ConfigurationError(
            f"{path} is a zip-format .pth (PyTorch >= 1.6); only the legacy format is read"
        )
    stream = io.BytesIO(data)
    try:
        if _load(stream) != _MAGIC:
            raise ConfigurationError(f"{path} is not a legacy PyTorch file (bad magic number)")
        if _load(stream) != _PROTOCOL:
            raise ConfigurationError(f"{path} uses an unknown PyTorch protocol version")
        sys_info = _load(stream)
        if not sys_info.get("little_endian", False):
            raise ConfigurationError(f"{path} was written big-endian; only little-endian is read")
        obj = _load(stream)
        keys = [str(k) for k in _load(stream)]
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as exc:
        raise ConfigurationError(f"{path} could not be read as a state dict: {exc}") from None

    refs = {ref.storage.key: ref.storage for ref in _tensor_refs(obj)}
    buffers: dict[str, NDArray[Any]] = {}
    for key in keys:
        header = stream.read(8)
        if len(header) != 8:
            raise ConfigurationError(f"{path} is truncated in storage {key}")
        (numel,) = struct.unpack("<q", header)
        storage = refs.get(key)
        dtype = np.dtype(storage.dtype if storage is not None else "u1")
        raw = stream.read(numel * dtype.itemsize)
        if len(raw) != numel * dtype.itemsize:
            raise ConfigurationError(f"{path} is truncated in storage {key}")
        buffers[key] = np.frombuffer(raw, dtype=dtype)

    if not isinstance(obj, dict):
        raise ConfigurationError(f"{path} holds a {type(obj).__name__}, not a state dict")
    out: dict[str, NDArray[Any]] = {}
    for name, ref in obj.items():
        if not isinstance(ref, _TensorRef):
            raise ConfigurationError(f"{path}: entry {name!r} is not a tensor")
        out[str(name)] = _materialise(ref, buffers[ref.storage.key])
    return out


def _tensor_refs(obj: Any) -> list[_TensorRef]:
    if isinstance(obj, dict):
        return [v for v in obj.values() if isinstance(v, _TensorRef)]
    return []


def _materialise(ref: _TensorRef, buffer: NDArray[Any]) -> NDArray[Any]:
    item = buffer.dtype.itemsize
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.stride, strict=True))
    if any(n == 0 for n in ref.shape):
        return np.zeros(ref.shape, dtype=buffer.dtype)
    if not ref.shape:  # as_strided reads an empty shape as "keep the input's"
        return np.array(buffer[ref.offset], dtype=buffer.dtype)
    if ref.offset < 0 or last >= len(buffer):
        raise ConfigurationError("a tensor reaches outside its storage")
    view = np.lib.stride_tricks.as_strided(
        buffer[ref.offset :],
        shape=ref.shape,
        strides=tuple(s * item for s in ref.stride),
        writeable=False,
    )
    return np.ascontiguousarray(view)
