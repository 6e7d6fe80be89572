"""MobileNetV2 (Sandler et al. 2018) ImageNet-1k classifier, run in onnxruntime.

The weights are torchvision's ``mobilenet_v2-b0353104.pth``, read without torch
(:mod:`candor.inference.pth`). The network is rebuilt as an ONNX graph with the ``onnx`` helper
API — batch norm folded into each convolution, ReLU6 as Clip(0, 6) — and written next to the
weights once, under a name that carries the weights' digest and the builder's version, so a new
weights file or a changed builder never reuses a stale graph.

Preprocessing is torchvision's: resize the shorter side to 256 (bilinear, antialiased), crop the
centre 224×224, scale to 0..1 and normalise with ImageNet's mean and standard deviation.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from candor.inference.base import RGBArray
from candor.inference.modelfiles import MODEL_FILES, path_for
from candor.inference.onnx import load_session
from candor.inference.pth import read_state_dict

WEIGHTS = "mobilenet_v2-b0353104.pth"
_BUILDER_VERSION = 1
_BN_EPS = 1e-5
_RESIZE = 256
_CROP = 224
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
_SCALE = (1.0 / (255.0 * _STD)).astype(np.float32)  # (x / 255 - mean) / std as one multiply-add
_SHIFT = (_MEAN / _STD).astype(np.float32)

# torchvision's inverted-residual settings: expansion t, output channels c, repeats n, stride s.
_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
             (6, 160, 3, 2), (6, 320, 1, 1))


class _GraphBuilder:
    def __init__(self, weights: dict[str, NDArray[Any]]) -> None:
        from onnx import helper, numpy_helper

        self.helper = helper
        self.numpy_helper = numpy_helper
        self.weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def _name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}_{self.count}"

    def _const(self, name: str, value: NDArray[Any]) -> str:
        self.initializers.append(self.numpy_helper.from_array(value, name))
        return name

    def conv_bn(self, x: str, conv: str, bn: str, *, stride: int, relu6: bool) -> str:
        """Conv (no bias) + BatchNorm folded into one Conv, then ReLU6 if asked."""
        w = self.weights[f"{conv}.weight"].astype(np.float64)
        gamma = self.weights[f"{bn}.weight"].astype(np.float64)
        beta = self.weights[f"{bn}.bias"].astype(np.float64)
        mean = self.weights[f"{bn}.running_mean"].astype(np.float64)
        var = self.weights[f"{bn}.running_var"].astype(np.float64)
        scale = gamma / np.sqrt(var + _BN_EPS)
        folded_w = (w * scale[:, None, None, None]).astype(np.float32)
        folded_b = (beta - mean * scale).astype(np.float32)
        out_ch, in_per_group, kh, _ = w.shape
        groups = out_ch if in_per_group == 1 else 1  # depthwise: one input channel per filter
        pad = kh // 2
        out = self._name("conv")
        self.nodes.append(
            self.helper.make_node(
                "Conv",
                [x, self._const(f"{conv}.w", folded_w), self._const(f"{conv}.b", folded_b)],
                [out],
                kernel_shape=[kh, kh],
                strides=[stride, stride],
                pads=[pad, pad, pad, pad],
                group=groups,
            )
        )
        if not relu6:
            return out
        clipped = self._name("relu6")
        self.nodes.append(self.helper.make_node("Clip", [out, "zero", "six"], [clipped]))
        return clipped

    def add(self, a: str, b: str) -> str:
        out = self._name("add")
        self.nodes.append(self.helper.make_node("Add", [a, b], [out]))
        return out

    def build(self) -> bytes:
        from onnx import TensorProto, checker

        h = self.helper
        self._const("zero", np.array(0.0, dtype=np.float32))
        self._const("six", np.array(6.0, dtype=np.float32))
        x = self.conv_bn("input", "features.0.0", "features.0.1", stride=2, relu6=True)
        in_ch, index = 32, 1
        for t, c, n, s in _SETTINGS:
            for i in range(n):
                stride = s if i == 0 else 1
                prefix = f"features.{index}.conv"
                y, layer = x, 0
                if t != 1:
                    y = self.conv_bn(y, f"{prefix}.0.0", f"{prefix}.0.1", stride=1, relu6=True)
                    layer = 1
                y = self.conv_bn(
                    y, f"{prefix}.{layer}.0", f"{prefix}.{layer}.1", stride=stride, relu6=True
                )
                y = self.conv_bn(
                    y, f"{prefix}.{layer + 1}", f"{prefix}.{layer + 2}", stride=1, relu6=False
                )
                x = self.add(x, y) if stride == 1 and in_ch == c else y
                in_ch, index = c, index + 1
        x = self.conv_bn(x, f"features.{index}.0", f"features.{index}.1", stride=1, relu6=True)
        self.nodes.append(h.make_node("GlobalAveragePool", [x], ["pooled"]))
        self.nodes.append(h.make_node("Flatten", ["pooled"], ["features"], axis=1))
        fc_w = self._const("classifier.w", self.weights["classifier.1.weight"].astype(np.float32))
        fc_b = self._const("classifier.b", self.weights["classifier.1.bias"].astype(np.float32))
        self.nodes.append(h.make_node("Gemm", ["features", fc_w, fc_b], ["logits"], transB=1))
        graph = h.make_graph(
            self.nodes,
            "mobilenet_v2",
            [h.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, _CROP, _CROP])],
            [h.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])],
            self.initializers,
        )
        model = h.make_model(
            graph, opset_imports=[h.make_opsetid("", 13)], producer_name="candor"
        )
        model.ir_version = 8  # readable by onnxruntime >= 1.14
        checker.check_model(model)
        data: bytes = model.SerializeToString()
        return data


def build_onnx(weights: dict[str, NDArray[Any]]) -> bytes:
    """The serialized ONNX model for a torchvision MobileNetV2 state dict."""
    return _GraphBuilder(weights).build()


def onnx_path(models_dir: Path) -> Path:
    """Build the ONNX graph from the installed weights once; return its path."""
    digest = MODEL_FILES[WEIGHTS].sha256[:12]
    target = models_dir / f"mobilenet_v2-{digest}-candor{_BUILDER_VERSION}.onnx"
    if target.is_file():
        return target
    data = build_onnx(read_state_dict(path_for(WEIGHTS, models_dir)))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # atomic: concurrent workers never read half a file
    return target


def preprocess(image: RGBArray) -> NDArray[np.float32]:
    """torchvision's Resize(256) + CenterCrop(224) + Normalize, as a (3, 224, 224) array.

    The whole image is resized, then cropped, as torchvision does: resampling only the centre
    (Pillow's ``box``) is faster but rounds differently, moving probabilities by up to 2 points.
    """
    h, w = image.shape[:2]
    if w <= h:
        size = (_RESIZE, int(_RESIZE * h / w))
    else:
        size = (int(_RESIZE * w / h), _RESIZE)
    left = round((size[0] - _CROP) / 2.0)  # torchvision: int(round(...)), banker's rounding
    top = round((size[1] - _CROP) / 2.0)
    resized = Image.fromarray(image).resize(size, Image.Resampling.BILINEAR)
    crop = resized.crop((left, top, left + _CROP, top + _CROP))
    x = np.asarray(crop, dtype=np.float32) * _SCALE - _SHIFT
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def softmax(logits: NDArray[np.float32]) -> NDArray[np.float64]:
    z = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(axis=-1, keepdims=True)
    return out


class MobileNetV2:
    """ImageNet-1k class probabilities for an RGB image. The session loads on first use."""

    name = "mobilenet_v2-imagenet1k"

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._session: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = load_session(onnx_path(self.models_dir))
            return self._session

    def probabilities(self, image: RGBArray) -> NDArray[np.float64]:
        """Softmax over the 1000 classes, indexed as ImageNet's standard 0..999 order."""
        batch = preprocess(image)[None]
        (logits,) = self._get().run(["logits"], {"input": batch})
        probabilities: NDArray[np.float64] = softmax(np.asarray(logits, dtype=np.float32))[0]
        return probabilities
