"""Write a synthetic national org tree as a regions CSV for ``import_units``.

At full scale the file has about 340 cities, 2,900 districts/counties, 40,000
streets/towns and 670,000 communities/villages (about 713,000 rows, 45 MB),
the size of the country. Rows come in code order, as the statistics bureau
publishes them: each region is followed by its subtree, so parents always
precede their children. Codes are valid 12-digit statistical codes
(PP CC DD TTT VVV) built from real province prefixes. The output depends only
on ``--scale`` and ``--seed``, and the file is written row by row, so memory
stays small whatever the scale.

Run from the project root::

    .venv/bin/python bench/national_tree.py /tmp/national.csv
    .venv/bin/python bench/national_tree.py /tmp/sample.csv --scale 0.01 --seed 7
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HEADER = ("区划代码", "区划名称", "层级", "上级区划代码", "社区类型", "户数", "人口")

# Full-scale counts of each level (cities, districts, streets, communities).
NATIONAL = (340, 2_900, 40_000, 670_000)

# The 31 provincial-level divisions' two-digit prefixes.
PROVINCES = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33",
    "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50",
    "51", "52", "53", "54", "61", "62", "63", "64", "65",
)  # fmt: skip

# Most children a parent can have: CC and DD are two digits, TTT and VVV three
# (cities per province, districts per city, streets per district, communities
# per street).
MAX_CHILDREN = (99, 99, 999, 999)

SYLLABLES = (
    "安", "宝", "北", "昌", "长", "城", "崇", "大", "德", "东", "丰", "福", "港",
    "广", "海", "和", "河", "红", "华", "怀", "黄", "嘉", "建", "江", "金", "锦",
    "靖", "康", "乐", "丽", "临", "龙", "隆", "鹿", "梅", "明", "南", "宁", "平",
    "浦", "青", "清", "庆", "泉", "仁", "荣", "瑞", "山", "上", "胜", "石", "顺",
    "松", "泰", "桃", "天", "通", "团", "万", "文", "西", "仙", "祥", "新", "兴",
    "阳", "永", "玉", "元", "云", "泽", "樟", "镇", "中", "州", "竹", "紫",
)  # fmt: skip

URBAN_TYPES = ("新城区", "老城区", "村改居")
URBAN_WEIGHTS = (4, 4, 2)
TOWN_TYPES = ("农村", "村改居", "新城区")
TOWN_WEIGHTS = (8, 2, 1)


@dataclass(frozen=True)
class Sizes:
    """How many regions of each level the file holds."""

    cities: int
    districts: int
    streets: int
    communities: int

    @classmethod
    def at_scale(cls, scale: float) -> Sizes:
        """The national counts times ``scale``; every region keeps a child."""
        if scale <= 0:
            raise ValueError("scale must be positive")
        # The cities' parent is the country, with room for 99 in each province.
        parents, rooms = 1, (len(PROVINCES) * MAX_CHILDREN[0], *MAX_CHILDREN[1:])
        counts: list[int] = []
        for full, room in zip(NATIONAL, rooms, strict=True):
            # At least one child per parent, and no more than the codes allow.
            count = min(max(round(full * scale), parents), parents * room)
            counts.append(count)
            parents = count
        return cls(*counts)

    @property
    def rows(self) -> int:
        return self.cities + self.districts + self.streets + self.communities


def split(total: int, parts: int, room: int, rng: random.Random) -> list[int]:
    """``total`` children over ``parts`` parents: each at least 1 and at most
    ``room``, uneven like real regions, summing exactly to ``total``."""
    if not parts <= total <= parts * room:
        raise ValueError(f"cannot split {total} into {parts} parts of 1..{room}")
    weights = [rng.uniform(0.4, 1.6) for _ in range(parts)]
    spare = total - parts
    scale = spare / sum(weights)
    counts = [min(1 + int(w * scale), room) for w in weights]
    # Hand out what rounding left over (or take back an excess) one at a time.
    missing = total - sum(counts)
    order = sorted(range(parts), key=weights.__getitem__, reverse=missing > 0)
    step = 1 if missing > 0 else -1
    while missing:
        for index in order:
            if missing == 0:
                break
            if 1 <= counts[index] + step <= room:
                counts[index] += step
                missing -= step
    return counts


def place_name(rng: random.Random, length: int = 2) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(length))


class TreeWriter:
    """Generates the rows of the tree in code order."""

    def __init__(self, sizes: Sizes, seed: int) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)
        rng = self.rng
        self.cities_per_province = split(
            sizes.cities, min(len(PROVINCES), sizes.cities), MAX_CHILDREN[0], rng
        )
        self.districts_per_city = split(
            sizes.districts, sizes.cities, MAX_CHILDREN[1], rng
        )
        self.streets_per_district = split(
            sizes.streets, sizes.districts, MAX_CHILDREN[2], rng
        )
        self.communities_per_street = split(
            sizes.communities, sizes.streets, MAX_CHILDREN[3], rng
        )
        self.counts: Counter[str] = Counter()

    def rows(self) -> Iterator[tuple[str, ...]]:
        district_sizes = iter(self.districts_per_city)
        street_sizes = iter(self.streets_per_district)
        community_sizes = iter(self.communities_per_street)
        for province, cities in zip(PROVINCES, self.cities_per_province, strict=False):
            for c in range(1, cities + 1):
                city = f"{province}{c:02d}00000000"
                yield self._row(city, place_name(self.rng) + "市", "市", "")
                for d in range(1, next(district_sizes) + 1):
                    district = f"{city[:4]}{d:02d}000000"
                    suffix = "区" if self.rng.random() < 0.45 else "县"
                    name = place_name(self.rng) + suffix
                    yield self._row(district, name, "区县", city)
                    for t in range(1, next(street_sizes) + 1):
                        yield from self._street(district, t, next(community_sizes))

    def _street(
        self, district: str, number: int, communities: int
    ) -> Iterator[tuple[str, ...]]:
        street = f"{district[:6]}{number:03d}000"
        urban = self.rng.random() < 0.4
        suffix = "街道" if urban else self.rng.choice(("镇", "镇", "乡"))
        yield self._row(street, place_name(self.rng) + suffix, "街镇", district)
        types, weights = (
            (URBAN_TYPES, URBAN_WEIGHTS) if urban else (TOWN_TYPES, TOWN_WEIGHTS)
        )
        prefix = place_name(self.rng)
        for v in range(1, communities + 1):
            code = f"{street[:9]}{v:03d}"
            kind = self.rng.choices(types, weights)[0]
            if kind == "农村":
                name = place_name(self.rng) + "村委会"
                households = self.rng.randint(150, 1_500)
            else:
                name = f"{prefix}第{v}居委会"
                households = self.rng.randint(800, 5_000)
            population = round(households * self.rng.uniform(2.2, 3.3))
            yield self._row(
                code, name, "社区", street, kind, str(households), str(population)
            )

    def _row(
        self,
        code: str,
        name: str,
        level: str,
        parent: str,
        kind: str = "",
        households: str = "",
        population: str = "",
    ) -> tuple[str, ...]:
        self.counts[level] += 1
        return (code, name, level, parent, kind, households, population)


def write_tree(path: Path, *, scale: float = 1.0, seed: int = 2024) -> Sizes:
    """Write the tree to ``path`` (UTF-8 CSV with a header row)."""
    sizes = Sizes.at_scale(scale)
    writer = TreeWriter(sizes, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        out.writerows(writer.rows())
    expected = {
        "市": sizes.cities,
        "区县": sizes.districts,
        "街镇": sizes.streets,
        "社区": sizes.communities,
    }
    if dict(writer.counts) != expected:  # a bug in the generator, not the input
        raise RuntimeError(f"wrote {dict(writer.counts)}, meant {expected}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="CSV file to write")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="fraction of the national size (default 1.0; 0.01 for a quick run)",
    )
    parser.add_argument("--seed", type=int, default=2024, help="random seed")
    args = parser.parse_args(argv)
    sizes = write_tree(args.output, scale=args.scale, seed=args.seed)
    print(
        f"{args.output}: {sizes.rows:,} rows — {sizes.cities:,} cities, "
        f"{sizes.districts:,} districts, {sizes.streets:,} streets, "
        f"{sizes.communities:,} communities",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
