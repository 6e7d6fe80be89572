"""DetectFaces and CompareFaces."""

from __future__ import annotations

from collections.abc import Sequence

from candor import audit
from candor.audit import AuditEvent
from candor.errors import InvalidParameterException
from candor.imaging import DecodedImage, ImageInput, load_image
from candor.inference.pipeline import AnalyzedFace
from candor.runtime import Runtime
from candor.services.quality import QUALITY_FILTERS, rejection_reasons
from candor.types import (
    BoolAttribute,
    BoundingBox,
    Caller,
    CompareFacesResult,
    DetectFacesResult,
    FaceDetail,
    FaceMatch,
    Landmark,
    Pose,
    Quality,
)

# Attributes Candor will never infer; asking for them is not an error, they are simply absent.
NOT_INFERRED = frozenset(
    {"AGE_RANGE", "GENDER", "EMOTIONS", "SMILE", "BEARD", "MUSTACHE", "EYEGLASSES", "SUNGLASSES"}
)
ATTRIBUTES = frozenset(
    {"DEFAULT", "ALL", "EYES_OPEN", "MOUTH_OPEN", "EYE_DIRECTION", "FACE_OCCLUDED"} | NOT_INFERRED
)


def to_face_detail(face: AnalyzedFace, image: DecodedImage) -> FaceDetail:
    w, h = float(image.width), float(image.height)
    box = BoundingBox(
        left=face.box.left / w,
        top=face.box.top / h,
        width=face.box.width / w,
        height=face.box.height / h,
    )
    landmarks = tuple(Landmark(name, x / w, y / h) for name, (x, y) in face.landmarks.items())
    return FaceDetail(
        bounding_box=box,
        confidence=face.confidence,
        landmarks=landmarks,
        pose=Pose(roll=face.roll, yaw=face.yaw, pitch=face.pitch),
        quality=Quality(brightness=face.brightness, sharpness=face.sharpness),
        eyes_open=BoolAttribute(*face.eyes_open) if face.eyes_open else None,
        mouth_open=BoolAttribute(*face.mouth_open) if face.mouth_open else None,
    )


def wants_extra_attributes(attributes: Sequence[str]) -> bool:
    unknown = sorted(set(attributes) - ATTRIBUTES)
    if unknown:
        raise InvalidParameterException(
            f"Unknown Attributes value(s) {unknown}; use DEFAULT, ALL or Rekognition's names"
        )
    return bool({"ALL", "EYES_OPEN", "MOUTH_OPEN"} & set(attributes))


def detect_faces(
    rt: Runtime,
    *,
    image: ImageInput,
    attributes: Sequence[str] = ("DEFAULT",),
    caller: Caller | None = None,
) -> DetectFacesResult:
    """Every face in the image (the 100 largest), largest first."""
    extra = wants_extra_attributes(attributes)
    account = (caller or Caller.local()).account
    decoded = load_image(image, rt.media, max_pixels=rt.settings.max_image_pixels, account=account)
    faces = rt.faces.analyze(decoded.pixels, all_attributes=extra)
    return DetectFacesResult(face_details=tuple(to_face_detail(f, decoded) for f in faces))


def compare_faces(
    rt: Runtime,
    caller: Caller | None = None,
    *,
    source_image: ImageInput,
    target_image: ImageInput,
    similarity_threshold: float = 80.0,
    quality_filter: str = "NONE",
) -> CompareFacesResult:
    """The largest face of the source against every face of the target.

    Similarity is calibrated (see :mod:`candor.inference.scoring`): a threshold of 80 accepts at
    most about one impostor pair in 10,000 in every demographic group measured.
    """
    if quality_filter not in QUALITY_FILTERS:
        raise InvalidParameterException(
            f"QualityFilter must be one of {', '.join(QUALITY_FILTERS)}, got {quality_filter!r}"
        )
    if not 0.0 <= similarity_threshold <= 100.0:
        raise InvalidParameterException(
            f"SimilarityThreshold must be between 0 and 100, got {similarity_threshold}"
        )
    caller = caller or Caller.local()
    settings = rt.settings
    limit, account = settings.max_image_pixels, caller.account
    source = load_image(source_image, rt.media, max_pixels=limit, account=account)
    target = load_image(target_image, rt.media, max_pixels=limit, account=account)

    source_dets = rt.faces.detect(source.pixels)
    if not source_dets:
        raise InvalidParameterException("No face was detected in SourceImage")
    (src,) = rt.faces.analyze(source.pixels, embed=True, detections=source_dets[:1])
    if rejection_reasons(src, quality_filter):
        raise InvalidParameterException(
            f"The largest face in SourceImage does not pass QualityFilter {quality_filter} "
            f"({', '.join(rejection_reasons(src, quality_filter))})"
        )
    assert src.embedding is not None  # analyze(embed=True) always embeds

    candidates = [
        f
        for f in rt.faces.analyze(target.pixels, embed=True)
        if not rejection_reasons(f, quality_filter)
    ]
    distances = rt.scoring.distances(
        src.embedding.data, [f.embedding.data for f in candidates if f.embedding]
    )
    matches: list[FaceMatch] = []
    unmatched: list[FaceDetail] = []
    for face, distance in zip(candidates, distances, strict=True):
        similarity = rt.scoring.similarity(distance)
        detail = to_face_detail(face, target)
        if similarity >= similarity_threshold:
            matches.append(FaceMatch(similarity=similarity, face=detail))
        else:
            unmatched.append(detail)
    matches.sort(key=lambda m: m.similarity, reverse=True)
    with rt.catalog.transaction(write=True) as tx:
        audit.append(
            tx,
            caller,
            AuditEvent(
                operation="CompareFaces",
                threshold=similarity_threshold,
                image_sha256=(source.sha256, target.sha256),
                match_count=len(matches),
                top_similarity=matches[0].similarity if matches else None,
                detail={"target_faces": len(candidates)},
            ),
        )
    return CompareFacesResult(
        source_face=to_face_detail(src, source), matches=tuple(matches), unmatched=tuple(unmatched)
    )
