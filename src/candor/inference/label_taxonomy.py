"""The label vocabulary: ImageNet's 1000 classes plus their WordNet parents, from
``data/imagenet_labels.json`` (written by ``scripts/imagenet_labels.py``), and the three labels
the face detector adds.

A parent's probability is the sum of its classes' probabilities — the classifier's probability
that the image shows *some* dog — so a parent is never less confident than any label below it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from candor.errors import ConfigurationError

PERSON, FACE, HEAD = "Person", "Face", "Head"
FACE_LABELS = (PERSON, FACE, HEAD)


@dataclass(frozen=True)
class LabelInfo:
    name: str
    parents: tuple[str, ...]
    aliases: tuple[str, ...]
    categories: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Taxonomy:
    classes: tuple[LabelInfo, ...]  # ImageNet's 0..999 order
    wnids: tuple[str, ...]
    labels: dict[str, LabelInfo]  # every label by name: classes, parents, face labels
    parent_names: tuple[str, ...]
    membership: NDArray[np.float64]  # (parents, 1000): 1 where the class is under the parent
    folded: dict[str, LabelInfo]  # by case-folded name
    names: tuple[str, ...]  # classes, then parents: the order of confidences' values
    index: dict[str, int]

    def confidences(
        self, probabilities: NDArray[np.float64], floor: float = 0.0
    ) -> dict[str, float]:
        """Confidence 0..100 of every class and parent label for one softmax output, leaving out
        those under ``floor``."""
        values = np.concatenate(
            [100.0 * probabilities, np.minimum(100.0, 100.0 * (self.membership @ probabilities))]
        )
        keep = np.flatnonzero(values >= floor)
        return {self.names[i]: float(values[i]) for i in keep}

    def confidence(self, name: str, probabilities: NDArray[np.float64]) -> float:
        """One label's confidence, whatever its value."""
        i = self.index[name]
        if i < len(self.classes):
            return 100.0 * float(probabilities[i])
        row = self.membership[i - len(self.classes)]
        return min(100.0, 100.0 * float(row @ probabilities))

    def lookup(self, name: str) -> LabelInfo | None:
        """A label by name, ignoring case."""
        return self.folded.get(name.casefold())


_FACE_INFO = (
    LabelInfo(FACE, (HEAD, PERSON), (), ("Person Description",)),
    LabelInfo(HEAD, (PERSON,), (), ("Person Description",)),
)


@cache
def load_taxonomy() -> Taxonomy:
    """The shipped vocabulary, read once per process."""
    try:
        text = resources.files("candor.data").joinpath("imagenet_labels.json").read_text()
    except FileNotFoundError:
        raise ConfigurationError(
            "candor/data/imagenet_labels.json is missing; run scripts/imagenet_labels.py"
        ) from None
    doc = json.loads(text)
    classes = tuple(
        LabelInfo(c["name"], tuple(c["parents"]), tuple(c["aliases"]), tuple(c["categories"]))
        for c in doc["classes"]
    )
    if len(classes) != 1000:
        raise ConfigurationError(f"imagenet_labels.json has {len(classes)} classes, not 1000")
    parents = {
        name: LabelInfo(name, tuple(v["parents"]), tuple(v["aliases"]), tuple(v["categories"]))
        for name, v in doc["parents"].items()
    }
    labels = {c.name: c for c in classes} | parents | {f.name: f for f in _FACE_INFO}
    parent_names = tuple(parents)
    index = {name: i for i, name in enumerate(parent_names)}
    membership = np.zeros((len(parent_names), len(classes)))
    for j, c in enumerate(classes):
        for p in c.parents:
            membership[index[p], j] = 1.0
    return Taxonomy(
        classes=classes,
        wnids=tuple(c["wnid"] for c in doc["classes"]),
        labels=labels,
        parent_names=parent_names,
        membership=membership,
        folded={k.casefold(): v for k, v in labels.items()},
        names=(*(c.name for c in classes), *parent_names),
        index={n: i for i, n in enumerate((*(c.name for c in classes), *parent_names))},
    )
