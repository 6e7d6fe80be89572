"""Frozen result types shared by services, the wire layer and the in-process client.

Coordinates are ratios of the image's width and height, as Rekognition reports them, measured
on the image after EXIF orientation has been applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

LOCAL_ACCOUNT = "admin"

WIRE_NAMES = "candor.wire"


def wire(*names: str) -> dict[str, tuple[str, ...]]:
    """Field metadata: the Rekognition response members a field fills where its own name in
    snake case is not theirs (``field(metadata=wire("FaceRecords"))``); read by
    :mod:`candor.api.shapes`, which walks each operation's output shape."""
    return {WIRE_NAMES: names}


@dataclass(frozen=True)
class BoundingBox:
    left: float
    top: float
    width: float
    height: float

    def __post_init__(self) -> None:
        if self.width < 0 or self.height < 0:
            raise ValueError(
                f"BoundingBox width and height must be >= 0, but got {self.width}, {self.height}"
            )

    @property
    def area(self) -> float:
        return self.width * self.height


@dataclass(frozen=True)
class Landmark:
    type: str
    x: float
    y: float


@dataclass(frozen=True)
class Pose:
    roll: float
    yaw: float
    pitch: float


@dataclass(frozen=True)
class Quality:
    brightness: float
    sharpness: float


@dataclass(frozen=True)
class BoolAttribute:
    """A yes/no attribute with the confidence that the value is right (50..100)."""

    value: bool
    confidence: float


@dataclass(frozen=True)
class FaceDetail:
    bounding_box: BoundingBox
    confidence: float
    landmarks: tuple[Landmark, ...]
    pose: Pose
    quality: Quality
    eyes_open: BoolAttribute | None = None
    mouth_open: BoolAttribute | None = None


@dataclass(frozen=True)
class DetectFacesResult:
    face_details: tuple[FaceDetail, ...]


@dataclass(frozen=True)
class FaceMatch:
    similarity: float
    face: FaceDetail


@dataclass(frozen=True)
class CompareFacesResult:
    source_face: FaceDetail = field(metadata=wire("SourceImageFace"))
    matches: tuple[FaceMatch, ...] = field(metadata=wire("FaceMatches"))
    unmatched: tuple[FaceDetail, ...] = field(metadata=wire("UnmatchedFaces"))


@dataclass(frozen=True)
class Caller:
    """Who a request acts for: the account whose resources it may touch, the key that signed
    it (None in process), and the purpose it states (recorded in audit records)."""

    account: str  # the account's name, unique; keys of account "admin" see what the CLI made
    access_key_id: str | None = None
    purpose: str | None = None

    @classmethod
    def local(cls, purpose: str | None = None) -> Caller:
        """The in-process client and the CLI act for the admin account, as its keys do."""
        return cls(account=LOCAL_ACCOUNT, purpose=purpose)


@dataclass(frozen=True)
class Collection:
    collection_id: str
    arn: str = field(metadata=wire("CollectionArn", "CollectionARN"))
    face_model: str = field(metadata=wire("FaceModelVersion"))
    created: datetime = field(metadata=wire("CreationTimestamp"))
    face_count: int
    user_count: int


@dataclass(frozen=True)
class StoredFace:
    """A face in a collection (Rekognition's ``Face``)."""

    face_id: str
    bounding_box: BoundingBox
    image_id: str
    external_image_id: str | None
    confidence: float
    face_model: str = field(metadata=wire("IndexFacesModelVersion"))
    user_id: str | None = None


@dataclass(frozen=True)
class IndexedFace:
    """A face IndexFaces stored, and what was detected of it."""

    face: StoredFace
    face_detail: FaceDetail


@dataclass(frozen=True)
class UnindexedFace:
    """A face IndexFaces detected but did not store, and why (EXCEEDS_MAX_FACES, LOW_…)."""

    reasons: tuple[str, ...]
    face_detail: FaceDetail


@dataclass(frozen=True)
class IndexFacesResult:
    indexed: tuple[IndexedFace, ...] = field(metadata=wire("FaceRecords"))
    unindexed: tuple[UnindexedFace, ...] = field(metadata=wire("UnindexedFaces"))
    face_model: str = field(metadata=wire("FaceModelVersion"))


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the token for the next (None on the last page)."""

    items: tuple[T, ...]
    next_token: str | None
    # FaceModelVersion, for listings of a collection's faces
    face_model: str | None = field(default=None, metadata=wire("FaceModelVersion"))


@dataclass(frozen=True)
class FaceSearchMatch:
    similarity: float
    face: StoredFace


@dataclass(frozen=True)
class FaceSearchResult:
    matches: tuple[FaceSearchMatch, ...] = field(metadata=wire("FaceMatches"))
    face_model: str = field(metadata=wire("FaceModelVersion"))
    searched_face_id: str | None = None
    searched_face: FaceDetail | None = None
    # Expected false matches for this search: faces searched × FMR(threshold).
    expected_false_matches: float = 0.0

    @property
    def searched_face_bounding_box(self) -> BoundingBox | None:
        return self.searched_face.bounding_box if self.searched_face else None

    @property
    def searched_face_confidence(self) -> float | None:
        return self.searched_face.confidence if self.searched_face else None


@dataclass(frozen=True)
class UnsuccessfulFace:
    """A face a DeleteFaces, AssociateFaces or DisassociateFaces call did not change, and why."""

    face_id: str
    reasons: tuple[str, ...]
    user_id: str | None = None  # the user it belongs to, where that is the reason
    confidence: float | None = None  # its best match with the user's faces (AssociateFaces)


@dataclass(frozen=True)
class DeleteFacesResult:
    deleted: tuple[str, ...] = field(metadata=wire("DeletedFaces"))
    unsuccessful: tuple[UnsuccessfulFace, ...] = field(metadata=wire("UnsuccessfulFaceDeletions"))


@dataclass(frozen=True)
class User:
    user_id: str
    status: str = field(metadata=wire("UserStatus"))


@dataclass(frozen=True)
class FaceAssociationResult:
    changed: tuple[str, ...] = field(metadata=wire("AssociatedFaces", "DisassociatedFaces"))
    unsuccessful: tuple[UnsuccessfulFace, ...] = field(
        metadata=wire("UnsuccessfulFaceAssociations", "UnsuccessfulFaceDisassociations")
    )
    user_status: str


@dataclass(frozen=True)
class UserMatch:
    similarity: float
    user: User


@dataclass(frozen=True)
class UnsearchedFace:
    """A face SearchUsersByImage detected but did not search with (only the largest is)."""

    reasons: tuple[str, ...]
    face_detail: FaceDetail = field(metadata=wire("FaceDetails"))


@dataclass(frozen=True)
class UserSearchResult:
    matches: tuple[UserMatch, ...] = field(metadata=wire("UserMatches"))
    face_model: str = field(metadata=wire("FaceModelVersion"))
    searched_face_id: str | None = None
    searched_user_id: str | None = None
    searched_face: FaceDetail | None = None
    unsearched: tuple[UnsearchedFace, ...] = field(default=(), metadata=wire("UnsearchedFaces"))
    expected_false_matches: float = 0.0
