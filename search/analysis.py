"""Chinese text analysis shared by both search engines.

Text is segmented in Python with jieba, so the database engine and
Elasticsearch see the same words (docs/subsystems/search.md, "Chinese text
analysis"):

- documents are cut in *search mode* (``index_tokens``): every word and the
  known shorter words inside it, so 消防安全 is found by 消防, 安全 and 消防安全;
- queries are cut in *precise mode* (``query_terms``): one reading of what was
  typed, each word widened to its synonyms; the engines OR within a term and
  AND across terms;
- ``highlight`` marks the words found in a title or a snippet.

The domain terms and synonym groups come from the database (``DomainTerm``,
``SynonymGroup``). Each process loads them once and reloads them when an
administrator changes them: saving or deleting either bumps a version in the
shared cache after commit, and every process looks at that version at most
every ``CHECK_SECONDS``. The process that made the change reloads at once.

Segmentation runs without jieba's HMM guesser: it would join unknown
characters into words differently depending on their neighbours, so a query
and a document could disagree on the same text. Unknown text is cut into
single characters instead, consistently on both sides.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType

import jieba
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from search.models import DomainTerm, SynonymGroup, split_synonyms

# jieba reports loading its dictionary on stderr at DEBUG level.
jieba.setLogLevel(logging.WARNING)
logger = logging.getLogger(__name__)

# Where the shared cache keeps the dictionary's version.
VERSION_CACHE_KEY = "search:analysis:version"
# How stale another process's change may be here. A cache read costs ~3 µs in
# memory but ~80 µs on Redis, ten times the cut of a title, so it is not done
# on every call.
CHECK_SECONDS = 5.0

# Function words, which carry nothing for a search. Only those: a stop word
# is lost to every query, and single characters such as 老 or 为 do mean
# something to someone.
STOP_WORDS = frozenset(
    "的地得了着过和与及等之或并而在是对把被将也都就其该这那个吗呢吧啊呀"
) | {
    "以及",
    "及其",
}

# Sent after commit when an administrator changed the dictionary or the
# synonyms; the index, cut with the old dictionary, may want rebuilding.
dictionary_changed = Signal()


@dataclass(frozen=True)
class Lexicon:
    """What the analysis knows beyond jieba's own dictionary."""

    # Domain terms, lower-cased: cut out whole, never split in a query.
    terms: frozenset[str] = frozenset()
    # Every word of a synonym group → itself first, then the words it stands
    # for. A word in two groups stands for the words of both.
    synonyms: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # The shared version this was loaded at; None where the cache keeps
    # nothing (tests), a fresh value nobody else has for a local change that
    # is not committed yet.
    version: str | None = None

    @cached_property
    def words(self) -> frozenset[str]:
        """Every word jieba must know: domain terms and synonyms. A synonym
        that jieba cut into pieces (防诈骗 → 防/诈骗) could never match."""
        return self.terms | frozenset(self.synonyms)

    @classmethod
    def build(
        cls,
        terms: Iterable[str],
        groups: Iterable[Iterable[str]],
        version: str | None = None,
    ) -> Lexicon:
        synonyms: dict[str, list[str]] = {}
        for group in groups:
            words = [word.lower() for word in group]
            for word in words:
                known = synonyms.setdefault(word, [word])
                known.extend(other for other in words if other not in known)
        return cls(
            terms=frozenset(term.lower() for term in terms),
            synonyms=MappingProxyType(
                {word: tuple(words) for word, words in synonyms.items()}
            ),
            version=version,
        )

    @classmethod
    def from_database(cls, version: str | None = None) -> Lexicon:
        return cls.build(
            DomainTerm.objects.values_list("word", flat=True),
            (
                split_synonyms(words)
                for words in SynonymGroup.objects.values_list("words", flat=True)
            ),
            version=version,
        )


class _State:
    """The process's tokenizer and the lexicon installed in it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tokenizer: jieba.Tokenizer | None = None
        self.lexicon: Lexicon | None = None
        # A word's frequency in jieba's own dictionary before it was added as
        # a user word (0: unknown), to put back when it is removed.
        self.base_frequencies: dict[str, int] = {}
        self.checked_at = -math.inf


_state = _State()


# ---------------------------------------------------------------------------
# Public API


def index_tokens(text: str) -> list[str]:
    """The words of ``text`` as the index stores them, in order, repeats kept:
    jieba's search mode (each word, then the known 2- and 3-character words
    inside a longer one: 消防安全 → 消防, 安全, 消防安全), Latin lower-cased,
    full-width letters and digits made narrow, punctuation, whitespace and
    stop words dropped. Tokens never contain whitespace."""
    if not text:
        return []
    tokenizer = _tokenizer_ready()
    return [
        token for token in _cut_for_search(tokenizer, _normalize(text)) if _keeps(token)
    ]


def query_terms(text: str, *, prefix: bool = False) -> list[tuple[str, ...]]:
    """What a query asks for: one tuple per term, the term first, then its
    synonyms; a document matches a tuple with any of its words and the query
    with every tuple. Empty when nothing searchable was typed.

    The query is cut in precise mode. A domain term or synonym stays whole;
    a longer word of jieba's own (消防安全) is split into the shorter known
    words it is made of (消防, 安全), which every document containing it also
    holds, so the query also finds 防火安全. Single characters are dropped
    when the query has longer words (the 点 of 助餐点), since documents rarely
    hold them as tokens; a query of single characters keeps them.

    With ``prefix`` (autocomplete) the last term is kept as typed, however
    short, since the user has not finished it.
    """
    lexicon = _lexicon()
    tokenizer = _tokenizer()
    words = [token for token in _cut(tokenizer, _normalize(text)) if _keeps(token)]
    if not words:
        return []
    last = words.pop() if prefix else None
    pieces: list[str] = []
    for word in words:
        if len(word) >= 4 and word not in lexicon.words and _is_han(word):
            pieces.extend(_known_parts(tokenizer, word))
        else:
            pieces.append(word)
    if any(len(piece) > 1 for piece in pieces) or (last and len(last) > 1):
        pieces = [piece for piece in pieces if len(piece) > 1]
    if last:
        pieces.append(last)
    terms: list[tuple[str, ...]] = []
    seen: set[frozenset[str]] = set()
    for piece in pieces:
        synonyms = lexicon.synonyms.get(piece, (piece,))
        # 养老 老人 asks the same twice: one tuple is enough.
        if (key := frozenset(synonyms)) not in seen:
            seen.add(key)
            terms.append(synonyms)
    return terms


def highlight(
    text: str, terms: Iterable[str], *, window: int | None = None
) -> SafeString:
    """``text`` HTML-escaped, with every occurrence of any of ``terms``
    wrapped in ``<mark>`` (the longest term wins where several start at the
    same place; marks never nest). Latin terms match whole words only, so
    ``app`` does not light up inside "application".

    With ``window``, whitespace is collapsed and only about ``window``
    characters are kept around the first match (from the start if nothing
    matches), with "…" where the text was cut; a match is never cut in two.
    """
    pattern = _pattern(tuple(sorted({term for term in terms if term})))
    if window is not None:
        text = " ".join(text.split())
    matches = list(pattern.finditer(text)) if pattern else []
    start, end = 0, len(text)
    if window is not None and len(text) > window:
        if matches:
            first = matches[0]
            # The first match a third of the way in: more of what follows it.
            start = max(0, min(first.start() - window // 3, len(text) - window))
            end = max(start + window, first.end())
            for match in matches:
                if match.start() < end < match.end():
                    end = match.end()
        else:
            end = window
        matches = [m for m in matches if m.start() >= start and m.end() <= end]
    parts = ["…"] if start > 0 else []
    position = start
    for match in matches:
        parts += [
            escape(text[position : match.start()]),
            "<mark>",
            escape(match.group()),
            "</mark>",
        ]
        position = match.end()
    parts.append(escape(text[position:end]))
    if end < len(text):
        parts.append("…")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text is escaped


def reload() -> None:
    """Read the dictionary and synonyms from the database now and use them in
    this process (a rebuild calls it first, so as not to cut with a
    dictionary up to ``CHECK_SECONDS`` old)."""
    with _state.lock:
        _install(_read_lexicon(_shared_version()))
        _state.checked_at = time.monotonic()


def current_lexicon() -> Lexicon | None:
    """The lexicon this process uses, None before the first analysis."""
    return _state.lexicon


def install_lexicon(lexicon: Lexicon | None) -> None:
    """Use ``lexicon`` in this process (None: forget it, read the database at
    the next analysis). For tests, which roll back the rows they added."""
    with _state.lock:
        _install(lexicon)
        _state.checked_at = time.monotonic() if lexicon else -math.inf


def connect() -> None:
    """Follow administrators' changes to the dictionary and the synonyms;
    called once from ``SearchConfig.ready``."""
    for model in (DomainTerm, SynonymGroup):
        for signal in (post_save, post_delete):
            signal.connect(
                _lexicon_changed,
                sender=model,
                dispatch_uid=f"search_analysis_{model.__name__}_{signal is post_save}",
            )


# ---------------------------------------------------------------------------
# Loading and reloading


def _lexicon_changed(**kwargs) -> None:
    # The process that saved (the administrator's request) sees the change at
    # once, inside its transaction. It marks what it loaded with a version
    # nobody shares, so it reads the database again at the next check: the
    # change may yet be rolled back.
    with _state.lock:
        _install(_read_lexicon(f"local-{uuid.uuid4().hex}"))
        _state.checked_at = time.monotonic()
    # The others learn of it from the shared version once it is committed.
    transaction.on_commit(_publish_change, robust=True)


def _publish_change() -> None:
    cache.set(VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
    dictionary_changed.send(sender=Lexicon)


def _shared_version() -> str | None:
    version = cache.get(VERSION_CACHE_KEY)
    if version is None:
        # Evicted, or a fresh cache: a new version makes every process reload
        # once, which is cheap and cannot miss a change. A cache that keeps
        # nothing (the tests' DummyCache) still answers None, and this process
        # then relies on its own signals alone.
        cache.add(VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_CACHE_KEY)
    return version


def _lexicon() -> Lexicon:
    now = time.monotonic()
    lexicon = _state.lexicon
    if lexicon is not None and now - _state.checked_at < CHECK_SECONDS:
        return lexicon
    with _state.lock:
        if _state.lexicon is None or now - _state.checked_at >= CHECK_SECONDS:
            version = _shared_version()
            if _state.lexicon is None or _state.lexicon.version != version:
                _install(_read_lexicon(version))
            _state.checked_at = now
        return _state.lexicon


def _read_lexicon(version: str | None) -> Lexicon:
    try:
        # A savepoint: a failed read must not break the caller's transaction.
        with transaction.atomic():
            return Lexicon.from_database(version)
    except DatabaseError:
        # Before the search tables are migrated (an offering published by an
        # earlier data migration): jieba's own dictionary for now, the
        # database again at the next check.
        logger.warning("Search dictionary unavailable; using jieba's own words.")
        return Lexicon(version=f"unavailable-{uuid.uuid4().hex}")


def _install(lexicon: Lexicon | None) -> None:
    """Make jieba know exactly ``lexicon``'s words (called under the lock)."""
    tokenizer = _tokenizer()
    wanted = lexicon.words if lexicon else frozenset()
    known = _state.lexicon.words if _state.lexicon else frozenset()
    frequencies = tokenizer.FREQ
    for word in known - wanted:
        # Put jieba's own frequency back rather than jieba.del_word, which
        # would force apart a word jieba knew anyway (居委会, 物业).
        base = _state.base_frequencies.get(word, 0)
        tokenizer.total += base - frequencies.get(word, 0)
        frequencies[word] = base
    for word in sorted(wanted - known):
        _state.base_frequencies.setdefault(word, frequencies.get(word, 0))
        # The lowest frequency that keeps the word whole when it stands
        # alone: enough for 村改居, without pulling 预防台风 into 预/防台风.
        tokenizer.add_word(word)
    _state.lexicon = lexicon


def _tokenizer() -> jieba.Tokenizer:
    if _state.tokenizer is None:
        with _state.lock:
            if _state.tokenizer is None:
                # Our own tokenizer, not jieba's global one, so other users of
                # jieba in the process keep their dictionary and ours.
                tokenizer = jieba.Tokenizer()
                tokenizer.tmp_dir = str(_cache_dir())
                tokenizer.initialize()
                _state.tokenizer = tokenizer
    return _state.tokenizer


def _tokenizer_ready() -> jieba.Tokenizer:
    _lexicon()
    return _tokenizer()


def _cache_dir() -> Path:
    """Where jieba keeps its dictionary compiled (9 MB; loading from it takes
    0.4 s instead of 1.5 s): under the var directory, a temp dir if that is
    read-only."""
    directory = Path(settings.VAR_DIR) / "jieba"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path(tempfile.gettempdir())
    return directory


# ---------------------------------------------------------------------------
# Pieces


# What jieba cuts into words (its ``re_han_default``); the rest is punctuation,
# whitespace and other scripts, one character at a time.
_BLOCK = jieba.re_han_default
_ASCII_CHARACTER = re.compile(r"[a-zA-Z0-9]")


def _cut(tokenizer: jieba.Tokenizer, text: str) -> list[str]:
    """jieba's precise mode without HMM (``tokenizer.cut(text, HMM=False)``),
    less its whitespace runs, 2.3 times as fast: jieba builds a dict of lists
    and takes a generator's max for every character, which made ``cut`` most
    of the time of indexing. Same dictionary, same route, same ties (the
    longer word wins); tests compare both."""
    frequencies = tokenizer.FREQ
    log_total = math.log(tokenizer.total)
    words: list[str] = []
    for block in _BLOCK.split(text):
        if not block:
            continue
        if _BLOCK.match(block):
            words += _cut_block(block, frequencies, log_total)
        else:
            words += block
    return words


def _cut_block(block: str, frequencies: dict[str, int], log_total: float) -> list[str]:
    # The likeliest route through the words of the dictionary, from the end:
    # score[i] is the best log probability of block[i:], end[i] where the
    # first word of that route ends.
    length = len(block)
    score = [0.0] * (length + 1)
    end = [0] * length
    log = math.log
    for start in range(length - 1, -1, -1):
        best: float | None = None
        best_end = start + 1
        stop = start + 1
        fragment = block[start]
        # Every prefix of a word is in the dictionary (frequency 0 when it
        # is not a word itself), so the first miss ends the search.
        while (frequency := frequencies.get(fragment)) is not None:
            if frequency:
                candidate = log(frequency) - log_total + score[stop]
                if best is None or candidate >= best:
                    best, best_end = candidate, stop
            if stop == length:
                break
            stop += 1
            fragment = block[start:stop]
        # A character jieba does not know as a word stands alone.
        score[start] = best if best is not None else score[start + 1] - log_total
        end[start] = best_end
    words: list[str] = []
    latin = ""
    position = 0
    while position < length:
        word = block[position : end[position]]
        position = end[position]
        # Letters and digits the dictionary left single are joined (12345).
        if len(word) == 1 and _ASCII_CHARACTER.match(word):
            latin += word
            continue
        if latin:
            words.append(latin)
            latin = ""
        words.append(word)
    if latin:
        words.append(latin)
    return words


def _cut_for_search(tokenizer: jieba.Tokenizer, text: str) -> list[str]:
    """jieba's search mode without HMM: each word of the precise cut, after
    the known 2- and 3-character words inside it."""
    frequencies = tokenizer.FREQ
    words: list[str] = []
    for word in _cut(tokenizer, text):
        if len(word) > 2:
            words += (
                gram
                for i in range(len(word) - 1)
                if frequencies.get(gram := word[i : i + 2])
            )
        if len(word) > 3:
            words += (
                gram
                for i in range(len(word) - 2)
                if frequencies.get(gram := word[i : i + 3])
            )
        words.append(word)
    return words


def _normalize(text: str) -> str:
    # NFKC makes full-width ＡＰＰ and １２３４５ narrow; lower-casing before
    # the cut keeps mixed words (e护理) the same whatever the case.
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=65536)
def _keeps(token: str) -> bool:
    # Cached: a text has few distinct tokens and most recur across texts.
    return (
        token not in STOP_WORDS
        and any(character.isalnum() for character in token)
        and not any(character.isspace() for character in token)
    )


def _known_parts(tokenizer: jieba.Tokenizer, word: str) -> list[str]:
    """``word`` as the likeliest run of known 2- and 3-character words (the
    ones search mode indexes inside a longer word), or whole if it is not
    made of such words."""
    frequencies = tokenizer.FREQ
    log_total = math.log(tokenizer.total)
    # best[i]: the best score and split of word[:i].
    best: list[tuple[float, list[str]] | None] = [None] * (len(word) + 1)
    best[0] = (0.0, [])
    for start in range(len(word)):
        if best[start] is None:
            continue
        score, parts = best[start]
        for length in (2, 3):
            part = word[start : start + length]
            if len(part) < length or not frequencies.get(part):
                continue
            candidate = score + math.log(frequencies[part]) - log_total
            end = start + length
            if best[end] is None or candidate > best[end][0]:
                best[end] = (candidate, [*parts, part])
    return best[-1][1] if best[-1] else [word]


_LATIN_WORD = re.compile(r"[a-z0-9]+")
_HAN_WORD = re.compile(r"[\u4e00-\u9fd5]+")


def _is_han(word: str) -> bool:
    return _HAN_WORD.fullmatch(word) is not None


@lru_cache(maxsize=1024)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = []
    for term in sorted(terms, key=len, reverse=True):
        escaped = re.escape(term)
        if _LATIN_WORD.fullmatch(term.lower()):
            escaped = rf"(?<![a-z0-9]){escaped}(?![a-z0-9])"
        alternatives.append(escaped)
    return re.compile("|".join(alternatives), re.IGNORECASE)
