from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from catalog.importers import import_offerings_file
from portal.importers import ImportFileError, report_lines
from portal.models import User


class Command(BaseCommand):
    help = (
        "Import offerings from a CSV or XLSX file (format: docs/import-offerings.md) "
        "as drafts, or published with --publish. All rows are written or none."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and write nothing."
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish the offerings instead of saving drafts for approval.",
        )
        parser.add_argument(
            "--user",
            help="Username the import runs as: its department and rights apply, "
            "and revisions are recorded under it.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar."
        )

    def handle(
        self,
        *args,
        path: Path,
        dry_run: bool,
        publish: bool,
        user: str | None,
        no_progress: bool,
        **options,
    ):
        if not path.exists():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(_("Unknown user: %(user)s") % {"user": user})
        bar = tqdm(unit=_("rows"), disable=no_progress or None, file=self.stderr._out)
        try:
            report = import_offerings_file(
                path,
                dry_run=dry_run,
                publish=publish,
                actor=actor,
                progress=bar.update,
                on_total=lambda total: bar.reset(total=total),
            )
        except (ImportFileError, PermissionError) as error:
            raise CommandError(str(error)) from error
        finally:
            bar.close()
        for line in report_lines(report):
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(
                _("%(count)s errors; nothing was imported.")
                % {"count": report.error_count}
            )
        if dry_run:
            self.stdout.write(
                self.style.WARNING(
                    _("Dry run: %(rows)s rows checked, nothing written.")
                    % {"rows": report.rows}
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(_("Imported %(rows)s rows.") % {"rows": report.rows})
            )
