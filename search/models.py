"""What the search knows of the language: the domain terms it must keep whole
and the words it treats as the same. Both are plain data that administrators
extend in the CMS; ``search.analysis`` reads them (see
docs/subsystems/search.md, "Chinese text analysis")."""

from __future__ import annotations

import re
import unicodedata

from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# The characters jieba joins into one word (its own ``re_han_default``, less
# the punctuation): a word with anything else is never cut out whole, so it
# would sit in the dictionary without ever matching.
_WORD = re.compile(r"[\u4e00-\u9fd5A-Za-z0-9+#&._%-]+")
# What may separate the words of a synonym group: the enumeration comma that
# Chinese writing uses, commas, semicolons, slashes and line breaks. Spaces do
# not: "心理 疏导" may mean one word or two, so the form asks.
_SYNONYM_SEPARATORS = re.compile(r"[、,，;；/\n\r]+")

ERROR_WORD_HAS_SPACE = _("“%(word)s” contains a space: write one word, without spaces.")
ERROR_WORD_CHARACTERS = _(
    "“%(word)s” can only contain Chinese characters, letters and digits."
)
ERROR_WORD_TOO_SHORT = _(
    "“%(word)s” is a single character: it would match almost every offering."
)
ERROR_SYNONYMS_TOO_FEW = _(
    "A synonym group needs at least two different words, separated by 、 or commas."
)


def normalize_word(word: str) -> str:
    # NFKC turns full-width letters and digits (１２３４５) into the ones
    # the analysis sees after its own normalization.
    return unicodedata.normalize("NFKC", word).strip()


def word_error(word: str) -> ValidationError | None:
    """Why ``word`` (normalized) cannot be a dictionary or synonym word."""
    params = {"word": word}
    if any(character.isspace() for character in word):
        return ValidationError(ERROR_WORD_HAS_SPACE, code="space", params=params)
    if not _WORD.fullmatch(word):
        return ValidationError(ERROR_WORD_CHARACTERS, code="characters", params=params)
    if len(word) < 2:
        return ValidationError(ERROR_WORD_TOO_SHORT, code="too_short", params=params)
    return None


def split_synonyms(text: str) -> list[str]:
    """The distinct words of a synonym group as written, normalized, in order."""
    words = (normalize_word(part) for part in _SYNONYM_SEPARATORS.split(text))
    return list(dict.fromkeys(word for word in words if word))


class DomainTerm(models.Model):
    """A word of community work that search must keep whole (村改居, 一网通办,
    楼组长): documents are cut around it and a query for it is not split."""

    word = models.CharField(
        _("word"),
        max_length=30,
        unique=True,
        help_text=_(
            "A word whose parts mean something else, such as 村改居 or 楼组长."
        ),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("domain term")
        verbose_name_plural = _("domain terms")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word

    def clean(self) -> None:
        self.word = normalize_word(self.word)
        if error := word_error(self.word):
            raise ValidationError({"word": error})


class SynonymGroup(models.Model):
    """Words a search treats as one (养老、为老、老年人): a query for any of them
    finds offerings that use any other."""

    words = models.CharField(
        _("words"),
        max_length=300,
        help_text=_(
            "Words that mean the same to someone searching, separated by 、 or "
            "commas, e.g. 养老、为老、老年人. Only words that really mean the same: "
            "each one finds everything the others find."
        ),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")
        ordering = ["words"]

    def __str__(self) -> str:
        return self.words

    @property
    def word_list(self) -> list[str]:
        return split_synonyms(self.words)

    def clean(self) -> None:
        words = self.word_list
        errors = [error for word in words if (error := word_error(word))]
        if len(words) < 2:
            errors.append(ValidationError(ERROR_SYNONYMS_TOO_FEW, code="too_few"))
        if errors:
            raise ValidationError({"words": errors})
        # Stored the way it is shown: one separator, no duplicates.
        self.words = "、".join(words)


class IndexedOffering(models.Model):
    """The database engine's document of one orderable offering: its texts as
    space-separated tokens (``search.analysis.index_tokens``). SQLite indexes
    the token columns in the FTS5 table ``search_fts``, kept by triggers;
    PostgreSQL the weighted ``search_vector``, with a GIN index (migration
    0002). Written by ``search.backends.database.DatabaseEngine``."""

    offering = models.OneToOneField(
        "catalog.OfferingPage",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # As written, for suggestions while typing.
    title = models.CharField(max_length=255)
    title_tokens = models.TextField()
    summary_tokens = models.TextField()
    keywords_tokens = models.TextField()
    body_tokens = models.TextField()
    department_tokens = models.TextField()
    # PostgreSQL only; an unused column on SQLite.
    search_vector = SearchVectorField(null=True)

    class Meta:
        verbose_name = _("indexed offering")
        verbose_name_plural = _("indexed offerings")

    def __str__(self) -> str:
        return self.title
