"""Write src/candor/data/imagenet_labels.json: the 1000 ImageNet-1k classes as DetectLabels
labels — name, aliases, categories and parent chain — from WordNet 3.0.

    apt-get install wordnet-base                      # WordNet 3.0 database, Debian package
    pip download --no-deps -d /tmp/timm timm          # carries the 1000 class ids, in order
    python scripts/imagenet_labels.py --synsets /tmp/timm/timm-*.whl

Offline sources only:

- ``--wordnet``: the WordNet 3.0 database files (``data.noun``, ``index.noun``); Debian's
  ``wordnet-base`` installs them in /usr/share/wordnet. ImageNet's ids are WordNet 3.0 noun
  offsets (``n02099601`` is the synset at offset 02099601, golden retriever).
- ``--synsets``: the 1000 ILSVRC-2012 ids in the standard 0..999 order, one per line; timm's
  wheel carries them as ``timm/data/_info/imagenet_synsets.txt`` and the script reads that
  member straight out of the wheel, so timm (and torch) need not be installed.

A label's parents are its WordNet hypernyms (every path up, nearest first) that appear in
``PARENTS`` below — the hand-picked level of generality at which people name things ("Dog",
"Mammal", "Animal"), not WordNet's taxonomic steps ("placental", "chordate"). Several synsets
may share one display name (food.n.01 and food.n.02 are both "Food"). A class takes its
categories from its nearest ancestor in ``CATEGORIES``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "src" / "candor" / "data" / "imagenet_labels.json"
TIMM_MEMBER = "timm/data/_info/imagenet_synsets.txt"
NAME_PATTERN = re.compile(r"[A-Za-z0-9àâèçñó'-_(). ]*")  # GeneralLabelsFilterValue's pattern

NOTICE = (
    "Label names, aliases and parents derive from WordNet 3.0. WordNet 3.0 Copyright 2006 by "
    "Princeton University. All rights reserved. THIS SOFTWARE AND DATABASE IS PROVIDED \"AS "
    "IS\" AND PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED."
)

# WordNet synset (NLTK-style name) → the parent label it becomes.
PARENTS: dict[str, str] = {
    # animals
    "animal.n.01": "Animal", "domestic_animal.n.01": "Pet", "mammal.n.01": "Mammal",
    "bird.n.01": "Bird", "fish.n.01": "Fish", "reptile.n.01": "Reptile",
    "amphibian.n.03": "Amphibian", "invertebrate.n.01": "Invertebrate", "insect.n.01": "Insect",
    "arachnid.n.01": "Arachnid", "spider.n.01": "Spider", "crustacean.n.01": "Crustacean",
    "crab.n.01": "Crab", "mollusk.n.01": "Mollusk", "canine.n.02": "Canine", "dog.n.01": "Dog",
    "hound.n.01": "Hound", "terrier.n.01": "Terrier", "wolf.n.01": "Wolf", "fox.n.01": "Fox",
    "feline.n.01": "Feline", "cat.n.01": "Cat", "big_cat.n.01": "Big Cat", "bear.n.01": "Bear",
    "primate.n.02": "Primate", "monkey.n.01": "Monkey", "ape.n.01": "Ape",
    "rodent.n.01": "Rodent", "rabbit.n.01": "Rabbit", "horse.n.01": "Horse",
    "elephant.n.01": "Elephant", "antelope.n.01": "Antelope", "swine.n.01": "Pig",
    "bovid.n.01": "Bovine", "whale.n.02": "Whale", "aquatic_mammal.n.01": "Sea Life",
    "marsupial.n.01": "Marsupial", "snake.n.01": "Snake", "lizard.n.01": "Lizard",
    "turtle.n.02": "Turtle", "crocodilian_reptile.n.01": "Crocodile", "frog.n.01": "Frog",
    "salamander.n.01": "Salamander", "shark.n.01": "Shark", "butterfly.n.01": "Butterfly",
    "beetle.n.01": "Beetle", "bird_of_prey.n.01": "Bird of Prey", "parrot.n.01": "Parrot",
    "duck.n.01": "Duck", "waterfowl.n.01": "Waterfowl", "fungus.n.01": "Fungus",
    # plants and food
    "plant.n.02": "Plant", "flower.n.01": "Flower", "edible_fruit.n.01": "Fruit",
    "vegetable.n.01": "Vegetable", "produce.n.01": "Produce",
    "food.n.01": "Food", "food.n.02": "Food", "dish.n.02": "Meal", "dessert.n.01": "Dessert",
    "bread.n.01": "Bread", "beverage.n.01": "Beverage", "alcohol.n.01": "Alcohol",
    # people
    "person.n.01": "Person",
    # vehicles
    "conveyance.n.03": "Transportation", "vehicle.n.01": "Vehicle", "car.n.01": "Car",
    "truck.n.01": "Truck", "bus.n.01": "Bus", "bicycle.n.01": "Bicycle",
    "vessel.n.02": "Watercraft", "boat.n.01": "Boat", "ship.n.01": "Ship",
    "aircraft.n.01": "Aircraft", "locomotive.n.01": "Locomotive", "train.n.01": "Train",
    "military_vehicle.n.01": "Military Vehicle",
    # apparel
    "clothing.n.01": "Clothing", "footwear.n.02": "Footwear", "shoe.n.01": "Shoe",
    "headdress.n.01": "Headwear", "hat.n.01": "Hat", "swimsuit.n.01": "Swimwear",
    "coat.n.01": "Coat", "skirt.n.02": "Skirt", "necktie.n.01": "Tie", "jewelry.n.01": "Jewelry",
    "bag.n.01": "Bag",
    # home
    "furniture.n.01": "Furniture", "chair.n.01": "Chair", "table.n.02": "Table",
    "bed.n.01": "Bed", "cabinet.n.01": "Cabinet", "home_appliance.n.01": "Appliance",
    "cooking_utensil.n.01": "Cookware", "tableware.n.01": "Tableware", "lamp.n.01": "Lamp",
    "bottle.n.01": "Bottle", "box.n.01": "Box", "toiletry.n.01": "Cosmetics",
    "camera.n.01": "Camera", "lock.n.01": "Lock", "roof.n.01": "Roof",
    "clock.n.01": "Clock", "timepiece.n.01": "Timepiece",
    # technology, tools, weapons
    "electronic_equipment.n.01": "Electronics", "computer.n.01": "Computer",
    "telephone.n.01": "Phone", "tool.n.01": "Tool", "machine.n.01": "Machine",
    "weapon.n.01": "Weapon", "gun.n.01": "Gun", "knife.n.01": "Knife",
    # music and sport
    "musical_instrument.n.01": "Musical Instrument", "guitar.n.01": "Guitar",
    "stringed_instrument.n.01": "String Instrument",
    "percussion_instrument.n.01": "Percussion Instrument",
    "wind_instrument.n.01": "Wind Instrument", "keyboard_instrument.n.01": "Keyboard Instrument",
    "sports_equipment.n.01": "Sports Equipment", "ball.n.01": "Ball",
    # buildings and nature
    "building.n.01": "Building", "dwelling.n.01": "House", "bridge.n.01": "Bridge",
    "fence.n.01": "Fence", "place_of_worship.n.01": "Place of Worship", "shop.n.01": "Shop",
    "memorial.n.03": "Monument", "geological_formation.n.01": "Nature",
}

# WordNet synset → category; a label takes the categories of its nearest ancestor listed here.
CATEGORIES: dict[str, str] = {
    "animal.n.01": "Animals and Pets",
    "plant.n.02": "Plants and Flowers", "fungus.n.01": "Plants and Flowers",
    "fruit.n.01": "Plants and Flowers",
    "food.n.01": "Food and Beverage", "food.n.02": "Food and Beverage",
    "beverage.n.01": "Food and Beverage", "produce.n.01": "Food and Beverage",
    "edible_fruit.n.01": "Food and Beverage",
    "person.n.01": "Person Description",
    "conveyance.n.03": "Vehicles and Automotive",
    "clothing.n.01": "Apparel and Accessories", "jewelry.n.01": "Apparel and Accessories",
    "bag.n.01": "Apparel and Accessories", "headdress.n.01": "Apparel and Accessories",
    "furnishing.n.02": "Furniture and Furnishings",
    "home_appliance.n.01": "Home and Indoors", "kitchen_utensil.n.01": "Home and Indoors",
    "tableware.n.01": "Home and Indoors", "crockery.n.01": "Home and Indoors",
    "toiletry.n.01": "Beauty and Personal Care",
    "electronic_equipment.n.01": "Technology and Computing",
    "computer.n.01": "Technology and Computing", "telephone.n.01": "Technology and Computing",
    "peripheral.n.01": "Technology and Computing",
    "tool.n.01": "Tools and Machinery", "machine.n.01": "Tools and Machinery",
    "weapon.n.01": "Weapons and Military", "military_vehicle.n.01": "Weapons and Military",
    "armor.n.01": "Weapons and Military",
    "musical_instrument.n.01": "Hobbies and Interests",
    "sports_equipment.n.01": "Sports", "game_equipment.n.01": "Sports",
    "structure.n.01": "Buildings and Architecture",
    "geological_formation.n.01": "Nature and Outdoors",
    "natural_object.n.01": "Nature and Outdoors",
    "artifact.n.01": "Everyday Objects",
}

MAX_ALIASES = 4


class WordNet:
    """The noun part of a WordNet 3.0 database: lemmas and hypernyms by offset."""

    def __init__(self, folder: Path) -> None:
        self.lemmas: dict[str, list[str]] = {}
        self.hypernyms: dict[str, list[str]] = {}
        for line in (folder / "data.noun").read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):  # licence header
                continue
            fields = line.split(" | ", 1)[0].split()
            offset, count = fields[0], int(fields[3], 16)
            self.lemmas[offset] = [fields[4 + 2 * i] for i in range(count)]
            i = 4 + 2 * count
            n_pointers, i = int(fields[i]), i + 1
            ups = []
            for _ in range(n_pointers):
                symbol, target, pos = fields[i : i + 3]
                i += 4
                if symbol in ("@", "@i") and pos == "n":
                    ups.append(target)
            self.hypernyms[offset] = ups
        self.by_name: dict[str, str] = {}
        self.lemma_set: set[str] = set()
        for line in (folder / "index.noun").read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma, n_senses, n_pointers = fields[0], int(fields[2]), int(fields[3])
            self.lemma_set.add(lemma)
            offsets = fields[4 + n_pointers + 2 : 4 + n_pointers + 2 + n_senses]
            for sense, offset in enumerate(offsets, 1):
                self.by_name[f"{lemma}.n.{sense:02d}"] = offset

    def names(self, offset: str) -> list[str]:
        """The synset's lemmas as label names."""
        out = []
        for lemma in self.lemmas[offset]:
            words = lemma.split("_")
            binomial = (
                len(words) == 2 and words[0][:1].isupper() and words[1].islower()
                and f"genus_{words[0].lower()}" in self.lemma_set
            )
            out.append(display(lemma, binomial))
        return out

    def offset(self, name: str) -> str:
        try:
            return self.by_name[name]
        except KeyError:
            raise SystemExit(f"{name} is not a WordNet 3.0 noun synset") from None

    def ancestors(self, offset: str) -> list[str]:
        """Every hypernym, each once, most specific first (deepest below the root first)."""
        depth: dict[str, int] = {}

        def depth_of(o: str) -> int:
            if o not in depth:
                ups = self.hypernyms[o]
                depth[o] = 0 if not ups else 1 + max(depth_of(u) for u in ups)
            return depth[o]

        seen: list[str] = []
        queue = deque(self.hypernyms[offset])
        while queue:
            o = queue.popleft()
            if o not in seen:
                seen.append(o)
                queue.extend(self.hypernyms[o])
        return sorted(seen, key=lambda o: (-depth_of(o), seen.index(o)))


SMALL_WORDS = frozenset({"a", "an", "and", "at", "de", "for", "in", "of", "on", "the", "to"})


def display(lemma: str, binomial: bool = False) -> str:
    """golden_retriever → Golden Retriever; king_of_beasts → King of Beasts; a Latin binomial
    keeps its case (Tinca_tinca → Tinca tinca)."""
    words = lemma.split("_")
    if binomial:
        return " ".join(words)
    return " ".join(
        w if i and w in SMALL_WORDS else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )


def read_synsets(path: Path) -> list[str]:
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            text = wheel.read(TIMM_MEMBER).decode()
    else:
        text = path.read_text()
    ids = [line.strip() for line in text.splitlines() if line.strip()]
    if len(ids) != 1000 or ids != sorted(ids):
        raise SystemExit(f"{path}: expected the 1000 ILSVRC-2012 ids in sorted order")
    return ids


def build(wn: WordNet, wnids: list[str]) -> dict[str, object]:
    parent_of = {wn.offset(name): label for name, label in PARENTS.items()}
    category_of = {wn.offset(name): cat for name, cat in CATEGORIES.items()}

    def parents(offset: str) -> list[str]:
        out: list[str] = []
        for o in wn.ancestors(offset):
            label = parent_of.get(o)
            if label is not None and label not in out:
                out.append(label)
        return out

    def categories(offset: str) -> list[str]:
        for o in [offset, *wn.ancestors(offset)]:
            if o in category_of:
                return [category_of[o]]
        return []

    names: dict[str, str] = {}
    taken = set(PARENTS.values())
    for wnid in wnids:
        names[wnid] = wn.names(wnid[1:])[0]
    # Two classes with one name (crane the bird, crane the machine), or a class named like a
    # parent label: use another lemma where the synset has one, else the nearest parent (or
    # hypernym) in brackets.
    firsts = list(names.values())
    for wnid, name in names.items():
        if firsts.count(name) > 1 or name in taken:
            others = wn.names(wnid[1:])[1:]
            free = [x for x in others if x not in firsts and x not in taken]
            if free:
                names[wnid] = free[0]
            else:
                near = parents(wnid[1:]) or wn.names(wn.hypernyms[wnid[1:]][0])[:1]
                names[wnid] = f"{name} ({near[0]})"
    if len(set(names.values())) != len(names):
        raise SystemExit("class names are not unique")

    classes = []
    for wnid in wnids:
        offset = wnid[1:]
        name = names[wnid]
        aliases = wn.names(offset)
        aliases = [a for a in dict.fromkeys(aliases) if a.lower() != name.lower()]
        classes.append(
            {
                "wnid": wnid,
                "name": name,
                "aliases": aliases[:MAX_ALIASES],
                "parents": parents(offset),
                "categories": categories(offset),
            }
        )
    nodes: dict[str, dict[str, list[str]]] = {}
    for syn_name, label in PARENTS.items():
        offset = wn.offset(syn_name)
        node = nodes.setdefault(label, {"aliases": [], "parents": [], "categories": []})
        for p in parents(offset):
            if p != label and p not in node["parents"]:
                node["parents"].append(p)
        for c in categories(offset):
            if c not in node["categories"]:
                node["categories"].append(c)
        for a in wn.names(offset):
            if a.lower() != label.lower() and a not in node["aliases"]:
                node["aliases"].append(a)
    for node in nodes.values():
        node["aliases"] = node["aliases"][:MAX_ALIASES]
    # Synsets merged under one name can bring parents a child did not reach: close the chains.
    for record in [*classes, *nodes.values()]:
        chain = record["parents"]
        assert isinstance(chain, list)
        for p in list(chain):
            chain.extend(q for q in nodes[p]["parents"] if q not in chain)
    for label in [c["name"] for c in classes] + list(nodes):
        if not NAME_PATTERN.fullmatch(str(label)) or len(str(label)) > 50:
            raise SystemExit(f"label {label!r} cannot be named in a DetectLabels filter")
    return {
        "source": "WordNet 3.0 (Debian wordnet-base) + ILSVRC-2012 class ids (timm); generated "
        "by scripts/imagenet_labels.py",
        "notice": NOTICE,
        "classes": classes,
        "parents": dict(sorted(nodes.items())),
    }


def render(doc: dict[str, object]) -> str:
    """One class or parent per line, so a change reads as a small diff."""
    classes = doc["classes"]
    parents = doc["parents"]
    assert isinstance(classes, list) and isinstance(parents, dict)
    lines = ["{"]
    lines.append(f'"source": {json.dumps(doc["source"])},')
    lines.append(f'"notice": {json.dumps(doc["notice"])},')
    lines.append('"classes": [')
    lines.append(",\n".join(json.dumps(c, ensure_ascii=False) for c in classes))
    lines.append("],")
    lines.append('"parents": {')
    lines.append(
        ",\n".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                   for k, v in parents.items())
    )
    lines.append("}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--synsets", type=Path, required=True,
                        help="timm wheel, or a text file of the 1000 ids")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if not (args.wordnet / "data.noun").is_file():
        print(f"no WordNet database in {args.wordnet}: apt-get install wordnet-base",
              file=sys.stderr)
        return 1
    doc = build(WordNet(args.wordnet), read_synsets(args.synsets))
    args.output.write_text(render(doc), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
