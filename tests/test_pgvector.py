"""CANDOR_VECTOR_INDEX=pgvector: face search from PostgreSQL's HNSW index, re-ranked exactly,
gives what the in-memory index gives on the same faces."""

from __future__ import annotations

from pathlib import Path

import pytest

from candor import Client, Settings
from candor.errors import ConfigurationError

from .test_durability import lfw_images


def _client(data_dir: Path, url: str, index: str) -> Client:
    return Client(settings=Settings(data_dir=data_dir, database_url=url, vector_index=index))


def test_pgvector_search_matches_the_memory_index(tmp_path: Path, pg_url: str) -> None:
    memory = _client(tmp_path, pg_url, "memory")
    memory.create_collection(CollectionId="g")
    images = lfw_images(60, offset=300)
    ids = []
    for path in images[:50]:
        r = memory.index_faces(CollectionId="g", Image={"Bytes": Path(path).read_bytes()},
                               MaxFaces=1, QualityFilter="NONE")
        ids += [f["Face"]["FaceId"] for f in r["FaceRecords"]]
    # switched on over faces stored without it: they get their embeddings on start
    vectors = _client(tmp_path, pg_url, "pgvector")
    for path in images[40:60]:
        probe = {"Bytes": Path(path).read_bytes()}
        a = memory.search_faces_by_image(CollectionId="g", Image=probe, FaceMatchThreshold=0,
                                         MaxFaces=10)
        b = vectors.search_faces_by_image(CollectionId="g", Image=probe, FaceMatchThreshold=0,
                                          MaxFaces=10)
        assert [m["Face"]["FaceId"] for m in a["FaceMatches"]] == [
            m["Face"]["FaceId"] for m in b["FaceMatches"]
        ]
        # the same distances, computed by a different float32 expression
        assert [m["Similarity"] for m in a["FaceMatches"]] == pytest.approx(
            [m["Similarity"] for m in b["FaceMatches"]], abs=1e-3
        )
    # faces indexed and deleted through the pgvector client are seen at once by both
    r = vectors.index_faces(CollectionId="g", Image={"Bytes": Path(images[55]).read_bytes()},
                            MaxFaces=1, QualityFilter="NONE")
    new = r["FaceRecords"][0]["Face"]["FaceId"]
    probe = {"Bytes": Path(images[55]).read_bytes()}
    top = vectors.search_faces_by_image(CollectionId="g", Image=probe, FaceMatchThreshold=99)
    assert top["FaceMatches"][0]["Face"]["FaceId"] == new
    vectors.delete_faces(CollectionId="g", FaceIds=[new, ids[0]])
    for client in (memory, vectors):
        found = client.search_faces_by_image(CollectionId="g", Image=probe, FaceMatchThreshold=0,
                                             MaxFaces=100)
        returned = {m["Face"]["FaceId"] for m in found["FaceMatches"]}
        assert new not in returned and ids[0] not in returned


def test_pgvector_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="database_url"):
        Settings(data_dir=tmp_path, vector_index="pgvector")
    with pytest.raises(ConfigurationError, match="memory or pgvector"):
        Settings(data_dir=tmp_path, vector_index="faiss")


def test_an_unreachable_database_is_a_clear_configuration_error() -> None:
    from candor.storage.postgres import PostgresStore

    with pytest.raises(ConfigurationError, match="cannot connect") as error:
        PostgresStore("postgresql://candor:s3cret@127.0.0.1:1/candor", connect_timeout=2)
    assert "s3cret" not in str(error.value)
    assert "127.0.0.1:1/candor" in str(error.value)
