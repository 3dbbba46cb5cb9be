"""Time the Chinese text analysis (``search.analysis``) on titles, bodies and queries.

The script loads jieba's dictionary and the starting domain terms and synonyms
(from migration ``search/0001_initial``, without a database), then times each
case ``--repeat`` times after a warm-up and prints the median and p95. The
peer is jieba's own search-mode cut of the same 300 characters, with the same
cleaning: the analysis runs its own copy of jieba's route search.

Target (from the issue): a 300-character text tokenised well under 1 ms.

    .venv/bin/python bench/search_analysis.py
    .venv/bin/python bench/search_analysis.py --repeat 200
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

TITLE = "社区消防安全知识培训"
PARAGRAPH = (
    "为提升社区居民消防安全意识，区消防救援支队联合街道开展社区消防安全知识培训。"
    "培训内容包括家庭火灾预防、电动自行车安全充电、飞线充电隐患排查、灭火器和消防栓的"
    "正确使用、高层住宅火灾逃生自救等。课程由具有丰富经验的消防员授课，结合典型案例讲解，"
    "并在小区内组织应急疏散演练。居委会、物业公司、楼组长和志愿者共同参与，适合老旧小区"
    "和村改居社区。报名请通过一网通办或拨打12345热线咨询。"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    from search import analysis
    from search.models import split_synonyms

    seed = importlib.import_module("search.migrations.0001_initial")
    started = time.perf_counter()
    tokenizer = analysis._tokenizer()
    loaded = time.perf_counter()
    analysis.install_lexicon(
        analysis.Lexicon.build(
            seed.DOMAIN_TERMS, [split_synonyms(words) for words in seed.SYNONYM_GROUPS]
        )
    )
    installed = time.perf_counter()
    print(
        f"jieba dictionary loaded in {(loaded - started) * 1000:.0f} ms, "
        f"{len(seed.DOMAIN_TERMS)} terms and {len(seed.SYNONYM_GROUPS)} synonym "
        f"groups added in {(installed - loaded) * 1000:.1f} ms"
    )

    body = (PARAGRAPH * 2)[:300]
    long_body = (PARAGRAPH * 20)[:3000]
    terms = [word for group in analysis.query_terms("消防培训") for word in group]

    def jieba_peer() -> list[str]:
        text = analysis._normalize(body)
        return [
            token
            for token in tokenizer.cut_for_search(text, HMM=False)
            if analysis._keeps(token)
        ]

    cases: list[tuple[str, int, Callable[[], object]]] = [
        ("index_tokens title", len(TITLE), lambda: analysis.index_tokens(TITLE)),
        ("index_tokens body", len(body), lambda: analysis.index_tokens(body)),
        (
            "index_tokens long body",
            len(long_body),
            lambda: analysis.index_tokens(long_body),
        ),
        ("jieba's own cut (peer)", len(body), jieba_peer),
        ("query_terms", 4, lambda: analysis.query_terms("消防培训")),
        ("highlight", len(body), lambda: analysis.highlight(body, terms)),
        (
            "highlight window=80",
            len(body),
            lambda: analysis.highlight(body, terms, window=80),
        ),
    ]
    print(f"{'case':<24} {'chars':>6} {'median µs':>10} {'p95 µs':>8}")
    for name, chars, function in cases:
        median, p95 = measure(function, args.repeat)
        print(f"{name:<24} {chars:>6} {median:>10.0f} {p95:>8.0f}")


def measure(function: Callable[[], object], repeat: int) -> tuple[float, float]:
    for _ in range(max(10, repeat // 10)):
        function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1e6)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(repeat * 0.95))]


if __name__ == "__main__":
    main()
