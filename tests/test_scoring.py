"""Scorings: the fair normalisation in the index, FaceModelVersion, and legacy collections."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import numpy as np
import pytest

from candor import Client
from candor.inference.scoring import (
    FAIR_SCORING,
    LEGACY_SCORING,
    Scoring,
    load_scoring,
    normalized_distances,
)
from candor.runtime import Runtime
from candor.services import collections
from candor.storage.sqlite import DB_NAME, MIGRATIONS, SqliteStore
from candor.storage.vectors import FaceVectorIndex
from candor.types import Caller

from .conftest import SMOKE

OBAMA = SMOKE / "examples" / "obama.jpg"
OBAMA2 = SMOKE / "examples" / "obama2.jpg"
BIDEN = SMOKE / "examples" / "biden.jpg"


@pytest.fixture(scope="module")
def fair() -> Scoring:
    return load_scoring(FAIR_SCORING)


def test_shipped_fair_scoring(fair: Scoring) -> None:
    assert fair.version == "2.0" and load_scoring(LEGACY_SCORING).version == "1.0"
    assert fair.descriptor_model == "dlib-resnet-v1"
    assert fair.normalizer is not None
    assert fair.normalizer.centroids.shape == (16, 128)
    # Weights stay near 1: the normalisation nudges, it does not reorder the world.
    assert 0.7 < fair.normalizer.weights.min() <= fair.normalizer.weights.max() < 1.4
    sims = [fair.similarity(d / 100) for d in range(150)]
    assert sims == sorted(sims, reverse=True)
    assert fair.calibration.impostor_pairs > 1_000_000
    # The honest scale is stricter than LFW's: 80 sits at a smaller distance.
    legacy = load_scoring(LEGACY_SCORING)
    assert fair.distance_for_similarity(80) < legacy.distance_for_similarity(80)


def test_unknown_scoring_is_refused() -> None:
    from candor.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="unknown scoring"):
        load_scoring("nope")


def test_weighted_index_matches_brute_force(fair: Scoring) -> None:
    assert fair.normalizer is not None
    rng = np.random.default_rng(3)
    # Descriptor-like vectors: the fitted centroids plus noise of dlib's within-person spread.
    picks = rng.integers(0, len(fair.normalizer.centroids), 600)
    vectors = (fair.normalizer.centroids[picks] + rng.normal(0, 0.03, (600, 128))).astype(
        np.float32
    )
    index = FaceVectorIndex(weight=fair.normalizer.weight)
    index.add(list(range(600)), vectors)
    index.remove(list(range(0, 600, 7)))  # holes filled by moved rows must keep their weight
    live = np.array([i for i in range(600) if i % 7])
    for q in vectors[[1, 50, 299]]:
        want = normalized_distances(fair.normalizer, q, vectors[live])
        order = np.argsort(want)[:10]
        cut = float(want[order[-1]])
        got = index.search(q, 10, cut + 1e-6)
        assert [i for i, _ in got] == live[order].tolist()
        assert np.allclose([d for _, d in got], want[order], atol=1e-4)
    # Plain and weighted distances differ: the normalisation is really applied.
    plain = FaceVectorIndex()
    plain.add(list(range(600)), vectors)
    assert plain.search(vectors[1], 5) != index.search(vectors[1], 5)


def test_old_database_collections_keep_the_legacy_scoring(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / DB_NAME)
    for number, script in enumerate(MIGRATIONS[:3], start=1):
        conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute(
        "INSERT INTO collections (account, collection_id, arn, face_model, created) "
        "VALUES ('a', 'old', 'arn', 'dlib-resnet-v1', '2026-11-01T00:00:00+00:00')"
    )
    conn.commit()
    conn.close()
    store = SqliteStore.in_data_dir(tmp_path)
    with store.transaction() as tx:
        record = tx.collection("a", "old")
    assert record is not None and record.scoring == LEGACY_SCORING


def _search_top(client: Client, coll: str) -> tuple[float, str]:
    r = client.search_faces_by_image(
        CollectionId=coll, Image={"Bytes": OBAMA2.read_bytes()}, FaceMatchThreshold=0
    )
    return r["FaceMatches"][0]["Similarity"], r["FaceModelVersion"]


def test_legacy_collection_keeps_its_meaning_until_migrated(
    client: Client, runtime: Runtime, fair: Scoring
) -> None:
    name = f"legacy-{uuid.uuid4().hex[:6]}"
    assert client.create_collection(CollectionId=name)["FaceModelVersion"] == "2.0"
    client.index_faces(CollectionId=name, Image={"Bytes": OBAMA.read_bytes()})
    fair_sim, version = _search_top(client, name)
    assert version == "2.0"
    with runtime.catalog.transaction(write=True) as tx:  # as a collection made before 2.0
        record = tx.collection("admin", name)
        assert record is not None
        tx.set_scoring(record, LEGACY_SCORING)
    legacy_sim, version = _search_top(client, name)
    assert version == "1.0"
    assert client.describe_collection(CollectionId=name)["FaceModelVersion"] == "1.0"
    # Same descriptors, two scales: the honest one never reads higher.
    assert legacy_sim > fair_sim
    moved = collections.migrate_scoring(runtime, Caller.local(), collection_id=name)
    assert moved.face_model == "2.0" and moved.face_count == 1
    assert _search_top(client, name) == (pytest.approx(fair_sim), "2.0")
    with runtime.catalog.transaction() as tx:
        mine = [r.payload for r in tx.audit_records() if f'"{name}"' in r.payload]
    assert '"MigrateScoring"' in mine[-2] and f'"from":"{LEGACY_SCORING}"' in mine[-2]


def test_migrating_to_an_unknown_scoring_is_refused(client: Client, runtime: Runtime) -> None:
    from candor.errors import ConfigurationError

    name = f"m-{uuid.uuid4().hex[:6]}"
    client.create_collection(CollectionId=name)
    with pytest.raises(ConfigurationError):
        collections.migrate_scoring(runtime, Caller.local(), collection_id=name, scoring="x")


def test_compare_faces_uses_the_fair_scale(client: Client, fair: Scoring) -> None:
    same = client.compare_faces(
        SourceImage={"Bytes": OBAMA.read_bytes()},
        TargetImage={"Bytes": OBAMA2.read_bytes()},
        SimilarityThreshold=0,
    )
    other = client.compare_faces(
        SourceImage={"Bytes": OBAMA.read_bytes()},
        TargetImage={"Bytes": BIDEN.read_bytes()},
        SimilarityThreshold=0,
    )
    assert same["FaceMatches"][0]["Similarity"] > 80
    assert other["FaceMatches"][0]["Similarity"] < 20
