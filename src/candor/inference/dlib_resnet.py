"""dlib's face descriptor network (ResNet-29, ``dlib_face_recognition_resnet_model_v1.dat``)
run in onnxruntime.

dlib serializes a network input layer first: each layer's tag string (``con_4``, ``affine_``,
``relu_``, ``max_pool_2``, ``avg_pool_2``, ``add_prev_``, ``fc_2``) followed by its settings, and
each tensor as four dimensions and raw little-endian float32 values. The reader here takes the
layers in file order and checks them against the architecture dlib publishes for this model
(``dnn_face_recognition_ex.cpp``): a 7×7 stem, max pool, 14 residual blocks whose down-sampling
ones add an average-pooled shortcut, a global average pool and a 256→128 matrix. Each ``affine``
(dlib's frozen batch norm) is folded into the convolution before it.

dlib adds a residual branch and its shortcut even where their shapes differ (a down-sampling
block's shortcut has half the channels, and at one step the branch is 3×3 against the shortcut's
4×4): the smaller is zero-padded after its last channel, row and column. The graph does the same.

The graph is written next to the weights once, under a name carrying the weights' digest and the
builder's version, like :mod:`candor.inference.mobilenet`. The face chip (150×150, 0.25 padding,
aligned on the 5 landmarks) is cut by dlib itself, so descriptors equal dlib's own
(``tests/test_descriptor_onnx.py``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from candor.inference.modelfiles import MODEL_FILES, path_for

WEIGHTS = "dlib_face_recognition_resnet_model_v1.dat"
_BUILDER_VERSION = 1
CHIP = 150
CHIP_PADDING = 0.25
_TAGS = (b"con_4", b"affine_", b"relu_", b"max_pool_2", b"avg_pool_2", b"add_prev_", b"fc_2")


class _Reader:
    """dlib's serialization: an integer is a byte holding its length (| 0x80 when negative)
    followed by that many little-endian bytes; a float tensor is a version, four dimensions
    and the values as raw float32."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def int(self) -> int:
        head = self.data[self.pos]
        size = head & 0x0F
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if head & 0x80 else value

    def string(self) -> str:
        n = self.int()
        text = self.data[self.pos : self.pos + n].decode("ascii")
        self.pos += n
        return text

    def tensor(self) -> NDArray[np.float32]:
        self.int()  # version
        dims = [self.int() for _ in range(4)]
        n = int(np.prod(dims))
        values = np.frombuffer(self.data, "<f4", n, self.pos).astype(np.float32)
        self.pos += 4 * n
        return values


@dataclass
class _Layer:
    tag: str
    params: NDArray[np.float32] = field(default_factory=lambda: np.empty(0, np.float32))
    settings: tuple[int, ...] = ()


def read_layers(data: bytes) -> list[_Layer]:
    """The network's layers in input-to-output order, with their parameters."""
    pattern = b"|".join(re.escape(bytes([1, len(t)]) + t) for t in _TAGS)
    layers = []
    for match in re.finditer(pattern, data):
        reader = _Reader(data, match.start())
        tag = reader.string()
        if tag == "con_4":
            params = reader.tensor()
            # num_filters, rows, columns, stride y, stride x, padding y, padding x
            layers.append(_Layer(tag, params, tuple(reader.int() for _ in range(7))))
        elif tag == "affine_":
            layers.append(_Layer(tag, reader.tensor()))
        elif tag == "fc_2":
            outputs, inputs = reader.int(), reader.int()
            layers.append(_Layer(tag, reader.tensor(), (outputs, inputs)))
        elif tag in ("max_pool_2", "avg_pool_2"):
            # rows, columns, stride y, stride x, padding y, padding x (0 × 0: the whole map)
            layers.append(_Layer(tag, settings=tuple(reader.int() for _ in range(6))))
        else:
            layers.append(_Layer(tag))
    return layers


class _Graph:
    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper = helper
        self.numpy_helper = numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        self.count += 1
        out = f"{op.lower()}_{self.count}"
        self.nodes.append(self.helper.make_node(op, inputs, [out], **attrs))
        return out

    def const(self, value: NDArray[Any]) -> str:
        self.count += 1
        name = f"w_{self.count}"
        self.initializers.append(self.numpy_helper.from_array(value, name))
        return name


@dataclass
class _Map:
    name: str
    channels: int
    size: int  # rows = columns: the chip is square


def _conv_affine(g: _Graph, x: _Map, conv: _Layer, affine: _Layer) -> _Map:
    filters, rows, cols, stride, _, pad, _ = conv.settings
    inputs = (len(conv.params) - filters) // (filters * rows * cols)
    if inputs != x.channels or rows != cols:
        raise ValueError(f"unexpected convolution {conv.settings} on {x.channels} channels")
    w = conv.params[: filters * inputs * rows * cols].reshape(filters, inputs, rows, cols)
    b = conv.params[filters * inputs * rows * cols :]
    gamma, beta = affine.params[:filters], affine.params[filters:]
    folded_w = (w.astype(np.float64) * gamma[:, None, None, None]).astype(np.float32)
    folded_b = (b.astype(np.float64) * gamma + beta).astype(np.float32)
    out = g.node(
        "Conv",
        [x.name, g.const(folded_w), g.const(folded_b)],
        kernel_shape=[rows, cols],
        strides=[stride, stride],
        pads=[pad, pad, pad, pad],
    )
    return _Map(out, filters, 1 + (x.size + 2 * pad - rows) // stride)


def _pad_to(g: _Graph, x: _Map, channels: int, size: int) -> _Map:
    """Zeros after the last channel, row and column, as dlib's add does for the smaller input."""
    if (x.channels, x.size) == (channels, size):
        return x
    c, extra = channels - x.channels, size - x.size
    pads = g.const(np.array([0, 0, 0, 0, 0, c, extra, extra], dtype=np.int64))
    return _Map(g.node("Pad", [x.name, pads]), channels, size)


def build_onnx(data: bytes) -> bytes:
    """The serialized ONNX model for the descriptor network in ``data`` (the .dat file);
    ValueError if it is not that network."""
    try:
        return _build(data)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"not dlib's face descriptor network: {exc}") from None


def _build(data: bytes) -> bytes:
    from onnx import TensorProto, checker

    layers = read_layers(data)
    tags = [layer.tag for layer in layers]
    g = _Graph()
    h = g.helper
    # Stem: con 7×7/2, affine, relu, max pool 3×3/2.
    if len(layers) < 8 or tags[:4] != ["con_4", "affine_", "relu_", "max_pool_2"]:
        raise ValueError(f"unexpected stem {tags[:4]}")
    x = _conv_affine(g, _Map("input", 3, CHIP), layers[0], layers[1])
    x = _Map(g.node("Relu", [x.name]), x.channels, x.size)
    k, _, s, _, p, _ = layers[3].settings
    x = _Map(
        g.node("MaxPool", [x.name], kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p]),
        x.channels,
        1 + (x.size + 2 * p - k) // s,
    )
    i, blocks = 4, 0
    # Blocks: con, affine, relu, con, affine, [avg pool of the shortcut], add_prev, relu.
    while tags[i] == "con_4":
        shortcut = x
        y = _conv_affine(g, x, layers[i], layers[i + 1])
        y = _Map(g.node("Relu", [y.name]), y.channels, y.size)
        y = _conv_affine(g, y, layers[i + 3], layers[i + 4])
        i += 5
        if tags[i] == "avg_pool_2":
            k, _, s, _, p, _ = layers[i].settings
            shortcut = _Map(
                g.node(
                    "AveragePool",
                    [shortcut.name],
                    kernel_shape=[k, k],
                    strides=[s, s],
                    pads=[p, p, p, p],
                ),
                shortcut.channels,
                1 + (shortcut.size + 2 * p - k) // s,
            )
            i += 1
        if tags[i : i + 2] != ["add_prev_", "relu_"]:
            raise ValueError(f"unexpected block ending {tags[i : i + 2]}")
        channels, size = max(shortcut.channels, y.channels), max(shortcut.size, y.size)
        shortcut, y = _pad_to(g, shortcut, channels, size), _pad_to(g, y, channels, size)
        added = g.node("Add", [y.name, shortcut.name])
        x = _Map(g.node("Relu", [added]), channels, size)
        i += 2
        blocks += 1
    if tags[i:] != ["avg_pool_2", "fc_2"] or layers[i].settings[:2] != (0, 0) or blocks != 14:
        raise ValueError(f"unexpected head {tags[i:]} after {blocks} blocks")
    pooled = g.node("GlobalAveragePool", [x.name])
    flat = g.node("Flatten", [pooled], axis=1)
    outputs, inputs = layers[i + 1].settings
    if inputs != x.channels:
        raise ValueError(f"fc expects {inputs} inputs, the network gives {x.channels}")
    fc = g.const(layers[i + 1].params.reshape(inputs, outputs))
    g.nodes.append(h.make_node("MatMul", [flat, fc], ["descriptor"]))
    graph = h.make_graph(
        g.nodes,
        "dlib_resnet_v1",
        [h.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, CHIP, CHIP])],
        [h.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["batch", outputs])],
        g.initializers,
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)], producer_name="candor")
    model.ir_version = 8  # readable by onnxruntime >= 1.14
    checker.check_model(model)
    serialized: bytes = model.SerializeToString()
    return serialized


def onnx_path(models_dir: Path) -> Path:
    """Build the ONNX graph from the installed .dat once; return its path."""
    digest = MODEL_FILES[WEIGHTS].sha256[:12]
    target = models_dir / f"dlib_resnet_v1-{digest}-candor{_BUILDER_VERSION}.onnx"
    if target.is_file():
        return target
    data = build_onnx(path_for(WEIGHTS, models_dir).read_bytes())
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # atomic: concurrent workers never read half a file
    return target


# input_rgb_image_sized<150>: each channel less its mean, divided by 256 (read from the file's
# input layer: 122.782, 117.001, 104.298).
_MEAN = np.array([122.782, 117.001, 104.298], dtype=np.float32)


def chip_batch(chips: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
    """150×150 RGB chips as the network's (n, 3, 150, 150) input."""
    x = (np.stack(chips).astype(np.float32) - _MEAN) / np.float32(256.0)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
