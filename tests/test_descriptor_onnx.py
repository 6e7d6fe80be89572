"""The descriptor network rebuilt in onnxruntime gives dlib's own descriptors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from candor.imaging import decode_image
from candor.inference import dlib_resnet
from candor.inference.dlib_faces import _rect
from candor.inference.modelfiles import path_for
from candor.inference.pipeline import dlib_style_box
from candor.runtime import Runtime
from tests.conftest import DEEPFACE, LFW, SMOKE

IMAGES = [
    SMOKE / "examples/two_people.jpg",
    DEEPFACE / "selfie-many-people.jpg",
    *sorted(LFW.rglob("*.jpg"))[:6],
]
FIVE = ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight")


def test_onnx_descriptors_equal_dlibs_own(runtime: Runtime) -> None:
    import dlib

    pipe = runtime.faces
    reference = dlib.face_recognition_model_v1(
        str(path_for(dlib_resnet.WEIGHTS, runtime.settings.models_dir))
    )
    compared = 0
    for path in IMAGES:
        pixels = decode_image(path.read_bytes(), max_bytes=15 << 20, max_pixels=36_000_000).pixels
        faces = pipe.analyze(pixels, embed=True)
        assert faces, path
        for face in faces:
            assert face.embedding is not None
            ours = np.frombuffer(face.embedding.data, dtype="<f4")
            # dlib's descriptor of the same face, aligned on the same five points.
            box = dlib_style_box([face.landmarks[n] for n in FIVE])
            points = pipe.shape5.points(pixels, box)
            shape = dlib.full_object_detection(
                _rect(box), [dlib.point(round(x), round(y)) for x, y in points]
            )
            theirs = np.asarray(reference.compute_face_descriptor(pixels, shape))
            assert np.abs(ours - theirs).max() < 1e-4, path
            compared += 1
    assert compared >= 12  # two_people's 2, the selfie's 6 or 7, one per LFW image


def test_a_batch_gives_each_face_what_it_gets_alone(runtime: Runtime) -> None:
    pixels = decode_image(
        (DEEPFACE / "selfie-many-people.jpg").read_bytes(),
        max_bytes=15 << 20,
        max_pixels=36_000_000,
    ).pixels
    pipe = runtime.faces
    together = pipe.analyze(pixels, embed=True)
    assert len(together) >= 5
    for face, det in zip(together, pipe.detect(pixels), strict=True):
        alone = pipe.analyze(pixels, embed=True, detections=[det])[0]
        assert face.embedding is not None and alone.embedding is not None
        a = np.frombuffer(face.embedding.data, dtype="<f4")
        b = np.frombuffer(alone.embedding.data, dtype="<f4")
        assert np.abs(a - b).max() < 1e-5


def test_a_file_that_is_not_the_network_is_refused(tmp_path: Path) -> None:
    for data in (b"not a dlib network at all", b"\x01\x05con_4" + bytes(64), b"\x01\x05con_4\x04"):
        with pytest.raises(ValueError, match="not dlib's face descriptor network"):
            dlib_resnet.build_onnx(data)
