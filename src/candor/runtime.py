"""The dependencies services need, built once per process from :class:`Settings`."""

from __future__ import annotations

import functools

from candor.config import Settings
from candor.inference.mobilenet import MobileNetV2
from candor.inference.nudenet import NudeNet
from candor.inference.ocr import PaddleOcr
from candor.inference.pipeline import FacePipeline
from candor.inference.scoring import Scoring, default_scoring, load_scoring
from candor.media import LocalMediaSource, MediaSource, S3MediaSource
from candor.storage.catalog import Catalog, CollectionRecord
from candor.storage.index_cache import IndexCache
from candor.storage.vectors_pg import PgVectorSearch


class Runtime:
    """Holds settings, the media source and the models. Models load lazily on first use."""

    def __init__(self, settings: Settings, media: MediaSource | None = None) -> None:
        self.settings = settings
        if media is None:
            shared = frozenset(b.strip() for b in settings.shared_buckets.split(",") if b.strip())
            if settings.s3_endpoint_url:
                media = S3MediaSource(settings.s3_endpoint_url, shared)
            else:
                media = LocalMediaSource(settings.media_dir, shared)
        self.media = media
        self.faces = FacePipeline(settings)

    @functools.cached_property
    def scoring(self) -> Scoring:
        """What new collections, CompareFaces and evaluation score with."""
        return default_scoring(self.faces.embedding_model)

    def scoring_for(self, record: CollectionRecord) -> Scoring:
        """A collection's own scoring: it keeps the one it was made (or last migrated) with."""
        return load_scoring(record.scoring)

    @functools.cached_property
    def classifier(self) -> MobileNetV2:
        return MobileNetV2(self.settings.models_dir)

    @functools.cached_property
    def ocr(self) -> PaddleOcr:
        return PaddleOcr(self.settings.models_dir)

    @functools.cached_property
    def nudity(self) -> NudeNet:
        return NudeNet(self.settings.models_dir)

    @functools.cached_property
    def catalog(self) -> Catalog:
        from candor.storage import open_store

        return open_store(self.settings)

    @functools.cached_property
    def indexes(self) -> IndexCache | PgVectorSearch:
        if self.settings.vector_index == "pgvector":
            return PgVectorSearch()
        return IndexCache()
