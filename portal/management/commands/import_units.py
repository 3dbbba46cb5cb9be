from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from portal.importers import (
    ImportFileError,
    ImportReport,
    import_units_file,
    report_lines,
)
from portal.models import User


class FileImportCommand(BaseCommand):
    """A command that imports a CSV or XLSX file (catalog's import_offerings
    subclasses it, as staticfiles' runserver does Django's).

    It takes the file, --dry-run, --user and --no-progress, draws a progress
    bar, prints the report and ends in a CommandError when a row was bad.
    Subclasses say how to run their import and may add options of their own.
    """

    user_help: str
    # What the import raises when it cannot start at all: the message is all
    # the user needs, not a traceback.
    import_errors: tuple[type[Exception], ...] = (ImportFileError,)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and write nothing."
        )
        self.add_import_arguments(parser)
        parser.add_argument("--user", help=self.user_help)
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar."
        )

    def add_import_arguments(self, parser: CommandParser) -> None:
        """The command's own options, listed in --help after --dry-run."""

    def run_import(
        self, path: Path, options: dict[str, Any], **import_arguments: Any
    ) -> ImportReport:
        """Runs the import with ``import_arguments`` (dry_run, actor, progress,
        on_total) and what it needs of the command's own ``options``."""
        raise NotImplementedError

    def handle(
        self,
        *args,
        path: Path,
        dry_run: bool,
        user: str | None,
        no_progress: bool,
        **options,
    ) -> None:
        if not path.exists():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(_("Unknown user: %(user)s") % {"user": user})
        bar = tqdm(unit=_("rows"), disable=no_progress or None, file=self.stderr._out)
        try:
            report = self.run_import(
                path,
                options,
                dry_run=dry_run,
                actor=actor,
                progress=bar.update,
                on_total=lambda total: bar.reset(total=total),
            )
        except self.import_errors as error:
            raise CommandError(str(error)) from error
        finally:
            bar.close()
        self._print(report)
        if not report.ok:
            raise CommandError(
                _("%(count)s errors; nothing was imported.")
                % {"count": report.error_count}
            )

    def _print(self, report: ImportReport) -> None:
        for line in report_lines(report):
            self.stdout.write(line)
        if report.ok and report.dry_run:
            self.stdout.write(
                self.style.WARNING(
                    _("Dry run: %(rows)s rows checked, nothing written.")
                    % {"rows": report.rows}
                )
            )
        elif report.ok:
            self.stdout.write(
                self.style.SUCCESS(_("Imported %(rows)s rows.") % {"rows": report.rows})
            )
        for invitation in report.invitations:
            self.stdout.write(
                _("Set-password link for %(username)s (%(name)s): %(url)s")
                % invitation._asdict()
            )


class Command(FileImportCommand):
    help = (
        "Import regions, departments and accounts from a CSV or XLSX file "
        "(format: docs/import-units.md). All rows are written or none."
    )
    user_help = "Username recorded as having run the import."

    def run_import(
        self, path: Path, options: dict[str, Any], **import_arguments: Any
    ) -> ImportReport:
        return import_units_file(path, **import_arguments)
