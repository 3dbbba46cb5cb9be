"""manage.py search_index rebuild|update|status"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from catalog.models import CatalogEntry
from search.backends import indexing_engines
from search.backends.base import SearchUnavailable
from search.documents import orderable_offering_ids
from search.services import index_rebuild, offerings_reindex

CHUNK = 2000


class Command(BaseCommand):
    help = (
        "Keep the search index of the catalog: 'rebuild' replaces it (searches "
        "keep answering meanwhile), 'update' indexes every orderable offering "
        "again and drops the rest, 'status' compares it with the catalog."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rebuild", "update", "status"])
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show a progress bar."
        )

    def handle(self, *args: Any, action: str, no_progress: bool, **options: Any):
        try:
            if action == "status":
                self._status()
                return
            total = CatalogEntry.objects.count()
            bar = tqdm(
                total=total * len(indexing_engines()),
                unit=_("offerings"),
                disable=no_progress or None,
                file=self.stderr._out,
            )
            with bar:
                if action == "rebuild":
                    written = index_rebuild(progress=bar.update)
                else:
                    written = self._update(bar)
        except SearchUnavailable as error:
            raise CommandError(str(error)) from error
        self.stdout.write(_("%(count)s offerings indexed.") % {"count": written})

    def _update(self, bar: tqdm) -> int:
        written = 0
        ids = list(orderable_offering_ids())
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            written += offerings_reindex(offering_ids=chunk)
            bar.update(len(chunk) * len(indexing_engines()))
        return written

    def _status(self) -> None:
        for engine in indexing_engines():
            status = engine.status()
            state = (
                _("up to date")
                if status.documents == status.expected
                else _("out of date: run search_index update")
            )
            self.stdout.write(
                _(
                    "%(engine)s: %(documents)s documents, %(expected)s orderable offerings, %(state)s"
                )
                % {
                    "engine": status.engine,
                    "documents": status.documents,
                    "expected": status.expected,
                    "state": state,
                }
            )
            if status.detail:
                self.stdout.write(f"  {status.detail}")
