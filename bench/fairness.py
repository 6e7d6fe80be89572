"""False match rates by demographic group, and the fair scoring fitted from them.

    python bench/fairness.py            # measure, fit, write src/candor/data/calibration-dlib-resnet-v1-fair.json
    python bench/fairness.py --check    # measure the shipped scorings only; write nothing
    python bench/fairness.py --sheets DIR   # contact sheets of each group's top-scoring pairs

Data: ``faces/utkface-dev`` (3,600 adults, 450 per race × gender, no identities: every pair of
different files counts as a different-person pair) and ``faces/lfw-dev`` (identities; gender per
image). Impostor pairs are within-group pairs, as in NIST FRVT Part 3. UTKFace repeats people
(many are public figures photographed several times): pairs judged by eye to show one person
(``bench/fairness-same-person.tsv``, and every pair joined through them) are left out; the rest
of the set is not identity-clean, which can only overstate a false match rate. The same file
corrects the LFW-dev label errors found among its top-scoring pairs.

The fit, in order:
1. Fair Score Normalization: k-means (K = 16) on the unit-free descriptors of all UTKFace-dev
   faces and up to 5 images per LFW-dev person; per cluster c the squared distance t_c at FMR
   1e-3 among impostor pairs touching it, and t at 1e-3 among all; weight w_c = √(t / t_c), so
   d'² = d² · w_i · w_j brings every cluster's 1e-3 point to the same place.
2. The honest calibration: for each FMR level, the largest normalised distance at which *every*
   group (8 UTKFace groups, LFW women, LFW men, LFW as a whole) accepts at most that fraction of
   its impostor pairs. Below what a group's pairs can measure (1 / pairs), its curve is carried
   down parallel to LFW's 14-million-pair curve, from its own last measured point.
The same method fitted on one half of UTKFace-dev (by SHA-1) and measured on the other half is
printed as the out-of-sample check.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfw import DATA, LFW, ROOT, embed_images, read_pairs

sys.path.insert(0, str(ROOT / "src"))

from candor.calibration import Calibration, Knot, fmr_for_similarity, similarity_for_fmr
from candor.inference.scoring import (
    FAIR_SCORING,
    LEGACY_SCORING,
    Normalizer,
    load_scoring,
    scoring_version,
)
from candor.services.evaluation import Rate

UTK = DATA / "faces" / "utkface-dev"
SAME_PERSON = Path(__file__).with_name("fairness-same-person.tsv")
THRESHOLDS = (80.0, 90.0, 95.0, 99.0)
CLUSTERS = 16
CLUSTER_FMR = 1e-3
LFW_PER_PERSON = 5
DECADE_STEPS = 10
SEED = 0


@dataclass(frozen=True)
class Face:
    key: str  # file name (UTKFace) or relative path (LFW)
    person: str  # LFW identity, or the UTKFace file (its own person) joined by same-person links
    group: str
    vector: np.ndarray
    half: int  # UTKFace: 0/1 by SHA-1; LFW: -1
    race: str = ""  # LFW-dev, where its label set has one (measurement only)


# -- data ------------------------------------------------------------------------------------


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        while self.parent.get(x, x) != x:
            x = self.parent[x] = self.parent.get(self.parent[x], self.parent[x])
        return x

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def _links(kind: Callable[[str], bool]) -> list[tuple[str, str]]:
    rows = [ln.split("\t") for ln in SAME_PERSON.read_text().splitlines()]
    return [(r[1], r[2]) for r in rows if len(r) == 3 and kind(r[0])]


def same_person_links() -> list[tuple[str, str]]:
    """UTKFace file pairs judged to show one person."""
    return _links(lambda g: not g.startswith(("#", "LFW")) and g != "group")


def load_faces() -> list[Face]:
    utk = list(csv.DictReader((UTK / "labels.csv").open()))
    lfw = list(csv.DictReader((LFW / "demographics.tsv").open(), delimiter="\t"))
    paths = [UTK / "images" / r["file"] for r in utk] + [LFW / "images" / r["image"] for r in lfw]
    emb = embed_images(paths)
    links = _Union()
    for a, b in same_person_links():
        links.join(a, b)
    faces = []
    for r in utk:
        p = UTK / "images" / r["file"]
        v = emb[str(p)]
        if v is None:
            continue
        half = int(hashlib.sha1(p.read_bytes()).hexdigest()[1], 16) // 8
        faces.append(Face(r["file"], "utk:" + links.find(r["file"]),
                          f"{r['race']} {'women' if r['gender'] == 'female' else 'men'}", v, half))
    shows = {b: a.split("/")[0] for a, b in _links(lambda g: g == "LFW-image")}
    names = _Union()
    for a, b in _links(lambda g: g == "LFW-identity"):
        names.join(b, a)
    for r in lfw:
        v = emb[str(LFW / "images" / r["image"])]
        if v is not None:
            g = {"female": "LFW women", "male": "LFW men"}.get(r["gender"], "LFW unlabelled")
            person = names.find(shows.get(r["image"], r["identity"]))
            faces.append(Face(r["image"], person, g, v, -1, r["race"]))
    return faces


def matrix(faces: Sequence[Face]) -> np.ndarray:
    return np.stack([f.vector for f in faces]).astype(np.float32)


# -- distances --------------------------------------------------------------------------------


def sq_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    d = (a64**2).sum(1)[:, None] + (b64**2).sum(1)[None, :] - 2.0 * a64 @ b64.T
    return np.clip(d, 0.0, None)


def impostor_distances(faces: Sequence[Face], norm: Normalizer | None) -> np.ndarray:
    """Sorted normalised distances of every pair of different people among ``faces``."""
    x = matrix(faces)
    people = np.array([f.person for f in faces])
    w = norm.weight(x).astype(np.float64) if norm is not None else np.ones(len(x))
    out = []
    for i in range(0, len(x), 1024):
        d2 = sq_distances(x[i : i + 1024], x) * w[i : i + 1024, None] * w[None, :]
        rows = np.arange(i, min(i + 1024, len(x)))[:, None]
        keep = (np.arange(len(x))[None, :] > rows) & (people[i : i + 1024, None] != people[None, :])
        out.append(np.sqrt(np.clip(d2[keep], 0.0, None)))
    return np.sort(np.concatenate(out))


def genuine_distances(faces: Sequence[Face], norm: Normalizer | None) -> np.ndarray:
    by_person: dict[str, list[Face]] = {}
    for f in faces:
        by_person.setdefault(f.person, []).append(f)
    out = []
    for fs in by_person.values():
        if len(fs) > 1:
            x = matrix(fs)
            w = norm.weight(x).astype(np.float64) if norm is not None else np.ones(len(x))
            d2 = sq_distances(x, x) * w[:, None] * w[None, :]
            iu = np.triu_indices(len(x), 1)
            out.append(np.sqrt(np.clip(d2[iu], 0.0, None)))
    return np.sort(np.concatenate(out))


# -- the fit ----------------------------------------------------------------------------------


def kmeans(x: np.ndarray, k: int, iterations: int = 50) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    c = x[rng.choice(len(x), k, replace=False)].astype(np.float64)
    for _ in range(iterations):
        a = sq_distances(x, c).argmin(1)
        for j in range(k):
            if (a == j).any():
                c[j] = x[a == j].mean(0)
    return c.astype(np.float32)


def fit_normalizer(faces: Sequence[Face]) -> Normalizer:
    """FSN weights from impostor pairs among ``faces`` (labels are not used, only who is who)."""
    count: dict[str, int] = {}
    pool = []
    for f in faces:
        count[f.person] = count.get(f.person, 0) + 1
        if f.half >= 0 or count[f.person] <= LFW_PER_PERSON:
            pool.append(f)
    x = matrix(pool)
    centroids = kmeans(x, CLUSTERS)
    cluster = Normalizer(centroids, np.ones(CLUSTERS, np.float32)).clusters(x)
    people = np.array([f.person for f in pool])
    d2 = sq_distances(x, x)
    iu = np.triu_indices(len(x), 1)
    imp = people[iu[0]] != people[iu[1]]
    d2, ci, cj = d2[iu][imp], cluster[iu[0]][imp], cluster[iu[1]][imp]
    overall = np.quantile(d2, CLUSTER_FMR)
    local = np.array([np.quantile(d2[(ci == c) | (cj == c)], CLUSTER_FMR) for c in range(CLUSTERS)])
    return Normalizer(centroids, np.sqrt(overall / local).astype(np.float32))


def _distance_at(sorted_d: np.ndarray, fmr: float) -> float:
    """Largest distance accepting at most ``fmr`` of these pairs (midpoint between pairs)."""
    m = int(np.floor(fmr * len(sorted_d) + 1e-9))
    if m >= len(sorted_d):
        return float(sorted_d[-1])
    if m == 0:
        return float(sorted_d[0]) - 1e-6
    return float((sorted_d[m - 1] + sorted_d[m]) / 2)


def honest_calibration(
    impostors: dict[str, np.ndarray], reference: str, genuine: np.ndarray, dataset: str
) -> Calibration:
    """Knots at which every group's FMR is at most the stated one (see the module docstring)."""
    ref = impostors[reference]
    levels = [10 ** (-k / DECADE_STEPS) for k in range(0, 6 * DECADE_STEPS + 1)]
    knots = [Knot(0.0, 0.0, 0.0, 100.0)]
    bound = {}
    for fmr in levels:
        per_group = []
        for d in impostors.values():
            floor = 1.0 / len(d)
            if fmr >= floor:
                per_group.append(_distance_at(d, fmr))
            else:  # carried down parallel to the reference curve
                drop = _distance_at(ref, floor) - _distance_at(ref, fmr)
                per_group.append(min(_distance_at(d, floor) - drop, float(d[0]) - 1e-6))
        bound[fmr] = min(per_group)
    for fmr in sorted(levels):  # tightest first; distances must rise with the FMR
        d = bound[fmr]
        if d <= knots[-1].distance:
            continue
        fnmr = float(1.0 - np.searchsorted(genuine, d, side="right") / len(genuine))
        knots.append(Knot(d, fmr, fnmr, similarity_for_fmr(fmr)))
    n = sum(len(v) for v in impostors.values())
    return Calibration(FAIR_SCORING, dataset, len(genuine), n, tuple(knots))


# -- measurement ------------------------------------------------------------------------------


def group_sets(faces: Sequence[Face], halves: tuple[int, ...]) -> dict[str, list[Face]]:
    out: dict[str, list[Face]] = {}
    for f in faces:
        if f.half in halves and f.group != "LFW unlabelled":
            out.setdefault(f.group, []).append(f)
    return out


def rates(
    cal: Callable[[float], float], imp: np.ndarray
) -> dict[float, Rate]:
    return {t: Rate(int(np.searchsorted(imp, cal(t), side="right")), len(imp)) for t in THRESHOLDS}


def fmt_rate(r: Rate, stated: float) -> str:
    lo, hi = r.interval
    flag = " **over**" if lo > stated else ""
    return f"{r.value:.1e} [{lo:.0e}, {hi:.0e}] ({r.errors}){flag}"


def print_group_table(title: str, cals: dict[str, Calibration], norms: dict[str, Normalizer | None],
                      groups: dict[str, list[Face]]) -> dict[str, dict[str, dict[float, Rate]]]:
    print(f"\n### {title}\n")
    print("| scoring | group | impostor pairs | " + " | ".join(
        f"FMR at ≥ {t:g} (stated {fmr_for_similarity(t):.1e})" for t in THRESHOLDS) + " |")
    print("|---|---|---:|" + "---:|" * len(THRESHOLDS))
    out: dict[str, dict[str, dict[float, Rate]]] = {}
    for name, cal in cals.items():
        out[name] = {}
        for g, fs in groups.items():
            imp = impostor_distances(fs, norms[name])
            r = rates(cal.distance_for_similarity, imp)
            out[name][g] = r
            cells = " | ".join(fmt_rate(r[t], fmr_for_similarity(t)) for t in THRESHOLDS)
            print(f"| {scoring_version(name)} | {g} | {len(imp):,} | {cells} |")
    return out


def spread(imps: dict[str, np.ndarray], distance: float) -> tuple[float, str, str]:
    r = {g: max(np.searchsorted(d, distance, side="right"), 1) / len(d) for g, d in imps.items()}
    hi, lo = max(r, key=r.__getitem__), min(r, key=r.__getitem__)
    return r[hi] / r[lo], hi, lo


def lfw_verification(norm: Normalizer | None, cal: Calibration) -> tuple[float, float, float]:
    """(5-fold best accuracy, TAR at FMR 1e-3, AUC) on LFW-dev's pairs.txt."""
    pairs = read_pairs()
    emb = embed_images([p.a for p in pairs] + [p.b for p in pairs])
    d = np.full(len(pairs), np.inf)
    for i, p in enumerate(pairs):
        a, b = emb[str(p.a)], emb[str(p.b)]
        if a is not None and b is not None:
            w = norm.weight(np.stack([a, b])) if norm is not None else np.ones(2)
            d[i] = np.sqrt(float(((a - b) ** 2).sum()) * float(w[0]) * float(w[1]))
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    accs = []
    for f in sorted(set(folds)):
        tr, te = folds != f, folds == f
        cands = np.unique(d[tr][np.isfinite(d[tr])])
        best = max(cands, key=lambda t: ((d[tr] <= t) == same[tr]).mean())
        accs.append(((d[te] <= best) == same[te]).mean())
    imp = np.sort(d[~same])
    t = imp[int(1e-3 * len(imp))] if len(imp) >= 1000 else imp[0] - 1e-9
    tar = float((d[same] <= t).mean())
    gen = d[same]
    auc = float(1.0 - np.searchsorted(imp, gen, side="left").mean() / len(imp))
    return float(np.mean(accs)), tar, auc


# -- contact sheets ---------------------------------------------------------------------------


def sheets(faces: Sequence[Face], norm: Normalizer | None, out: Path, n: int = 40) -> None:
    """Each group's ``n`` top-scoring pairs not yet judged one person, with their ranks, and a
    TSV of them (rank, distance, files) to copy judged lines from."""
    from PIL import Image, ImageDraw

    out.mkdir(parents=True, exist_ok=True)
    size = 88
    for g, fs in group_sets(faces, (0, 1)).items():
        if g.startswith("LFW"):
            continue
        x = matrix(fs)
        w = norm.weight(x) if norm is not None else np.ones(len(x))
        d = np.sqrt(sq_distances(x, x) * w[:, None] * w[None, :])
        iu = np.triu_indices(len(x), 1)
        people = np.array([f.person for f in fs])
        unjudged = people[iu[0]] != people[iu[1]]
        iu = (iu[0][unjudged], iu[1][unjudged])
        order = np.argsort(d[iu])[:n]
        lines = [f"{k}\t{d[iu[0][o], iu[1][o]]:.4f}\t{g}\t{fs[iu[0][o]].key}\t{fs[iu[1][o]].key}"
                 for k, o in enumerate(order)]
        (out / f"top-pairs-{g.replace(' ', '-')}.tsv").write_text("\n".join(lines) + "\n")
        sheet = Image.new("RGB", (5 * (2 * size + 10), (n // 5) * (size + 13)), "white")
        draw = ImageDraw.Draw(sheet)
        for k, o in enumerate(order):
            i, j = iu[0][o], iu[1][o]
            x0, y0 = (k % 5) * (2 * size + 10), (k // 5) * (size + 13)
            for m, f in enumerate((fs[i], fs[j])):
                img = Image.open(UTK / "images" / f.key).convert("RGB").resize((size, size))
                sheet.paste(img, (x0 + m * size, y0))
            draw.text((x0 + 2, y0 + size), f"#{k} {d[i, j]:.3f}", fill="black")
        sheet.save(out / f"top-pairs-{g.replace(' ', '-')}.png")
    print(f"wrote contact sheets to {out}")


# -- main -------------------------------------------------------------------------------------


def fit(faces: Sequence[Face], halves: tuple[int, ...]) -> tuple[Normalizer, Calibration]:
    pool = [f for f in faces if f.half in halves or f.half < 0]
    norm = fit_normalizer(pool)
    groups = group_sets(pool, (*halves, -1))
    imps = {g: impostor_distances(fs, norm) for g, fs in groups.items()}
    lfw = [f for f in pool if f.half < 0]
    imps["LFW all"] = impostor_distances(lfw, norm)
    which = "all of utkface-dev" if len(halves) == 2 else f"utkface-dev half {halves[0]}"
    cal = honest_calibration(
        imps, "LFW all", genuine_distances(lfw, norm),
        f"within-group impostor pairs of {which} (8 race × gender groups) and LFW-dev "
        "(women, men, all); FNMR from LFW-dev same-person pairs",
    )
    return norm, cal


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="measure the shipped scorings; write nothing")
    ap.add_argument("--sheets", metavar="DIR", help="draw each group's 40 top-scoring pairs")
    args = ap.parse_args()
    faces = load_faces()
    n_utk = sum(f.half >= 0 for f in faces)
    print(f"faces: utkface-dev {n_utk}, lfw-dev {len(faces) - n_utk}; "
          f"same-person links: {len(same_person_links())}")
    legacy = load_scoring(LEGACY_SCORING)
    if args.sheets:
        sheets(faces, load_scoring(FAIR_SCORING).normalizer, Path(args.sheets))
        return 0

    if args.check:
        fair = load_scoring(FAIR_SCORING)
        norm, cal = fair.normalizer, fair.calibration
    else:
        norm, cal = fit(faces, (0, 1))
        data = cal.to_json()
        data.update(model=FAIR_SCORING, descriptor_model=legacy.descriptor_model,
                    version=scoring_version(FAIR_SCORING), normalizer=norm.to_json())
        target = ROOT / "src" / "candor" / "data" / f"calibration-{FAIR_SCORING}.json"
        target.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {target.relative_to(ROOT)}")

    cals = {LEGACY_SCORING: legacy.calibration, FAIR_SCORING: cal}
    norms = {LEGACY_SCORING: None, FAIR_SCORING: norm}
    groups = group_sets(faces, (0, 1, -1))
    print_group_table("Per-group FMR on all of utkface-dev and lfw-dev, Wilson 95% interval "
                      "(pairs over the stated rate); **over** = interval entirely above stated",
                      cals, norms, groups)

    # Out of sample: the same method fitted on half 0, measured on half 1.
    norm0, cal0 = fit(faces, (0,))
    print_group_table("Out of sample: fitted on utkface-dev half 0 (+ LFW-dev), measured on half 1",
                      {FAIR_SCORING: cal0}, {FAIR_SCORING: norm0},
                      {g: fs for g, fs in group_sets(faces, (1,)).items()})

    print("\n### Spread between groups (utkface-dev, within-group impostor pairs)\n")
    print("| scoring | at | threshold (distance) | worst group | best group | worst / best |")
    print("|---|---|---:|---|---|---:|")
    utk_groups = {g: fs for g, fs in group_sets(faces, (0, 1)).items()}
    for name in (LEGACY_SCORING, FAIR_SCORING):
        imps = {g: impostor_distances(fs, norms[name]) for g, fs in utk_groups.items()}
        pooled = np.sort(np.concatenate(list(imps.values())))
        for label, dist in (
            ("pooled FMR 1e-3", _distance_at(pooled, 1e-3)),
            ("pooled FMR 1e-4", _distance_at(pooled, 1e-4)),
            ("Similarity 80", cals[name].distance_for_similarity(80.0)),
        ):
            ratio, hi, lo = spread(imps, dist)
            print(f"| {scoring_version(name)} | {label} | {dist:.4f} | {hi} | {lo} | {ratio:,.0f}× |")
    print("(a group with no pair past the threshold counts as 1 pair, so a ratio is a lower bound "
          "there)")

    print("\n### LFW-dev by gender, and by race where labelled (FNMR: same-person image pairs; "
          "FMR: different-person pairs within the group)\n")
    print("| scoring | group | people | same-person pairs | FNMR at 80 | FNMR at 90 | "
          "different-person pairs | FMR at 80 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    lfw_all = [f for f in faces if f.half < 0]
    by: dict[str, list[Face]] = {}
    for f in lfw_all:
        if f.group != "LFW unlabelled":
            by.setdefault(f.group, []).append(f)
        if f.race and "," not in f.race:  # single labels; mixed ones hold 1–8 people each
            by.setdefault(f"LFW {f.race}", []).append(f)
    for name in (LEGACY_SCORING, FAIR_SCORING):
        for g, fs in sorted(by.items(), key=lambda kv: -len(kv[1])):
            if len({f.person for f in fs}) < 4:
                continue
            gen = genuine_distances(fs, norms[name]) if len({f.person for f in fs}) < len(fs) else np.empty(0)
            imp = impostor_distances(fs, norms[name])
            d80, d90 = (cals[name].distance_for_similarity(t) for t in (80.0, 90.0))
            fnmr = (f"{(gen > d80).mean():.1%} | {(gen > d90).mean():.1%}" if len(gen) else "– | –")
            fmr = Rate(int(np.searchsorted(imp, d80, side="right")), len(imp))
            print(f"| {scoring_version(name)} | {g} | {len({f.person for f in fs}):,} | {len(gen):,} "
                  f"| {fnmr} | {len(imp):,} | {fmt_rate(fmr, 1e-4)} |")

    print("\n### LFW-dev (3,000 pairs of pairs.txt; FNMR over all same-person image pairs)\n")
    print("| scoring | accuracy, 5-fold | TAR @ FMR 1e-3 | AUC | " + " | ".join(
        f"FNMR at {t:g}" for t in THRESHOLDS) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(THRESHOLDS))
    lfw = [f for f in faces if f.half < 0]
    for name in (LEGACY_SCORING, FAIR_SCORING):
        acc, tar, auc = lfw_verification(norms[name], cals[name])
        gen = genuine_distances(lfw, norms[name])
        fnmr = " | ".join(
            f"{(gen > cals[name].distance_for_similarity(t)).mean():.1%}" for t in THRESHOLDS)
        print(f"| {scoring_version(name)} {name} | {acc:.2%} | {tar:.2%} | {auc:.4f} | {fnmr} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
