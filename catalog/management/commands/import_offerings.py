from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from catalog.importers import import_offerings_file
from portal.importers import ImportFileError, ImportReport
from portal.management.commands.import_units import FileImportCommand


class Command(FileImportCommand):
    help = (
        "Import offerings from a CSV or XLSX file (format: docs/import-offerings.md) "
        "as drafts, or published with --publish. All rows are written or none."
    )
    user_help = (
        "Username the import runs as: its department and rights apply, "
        "and revisions are recorded under it."
    )
    # A --user without the rights to import offerings.
    import_errors = (ImportFileError, PermissionError)

    def add_import_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish the offerings instead of saving drafts for approval.",
        )

    def run_import(
        self, path: Path, options: dict[str, Any], **import_arguments: Any
    ) -> ImportReport:
        return import_offerings_file(
            path, publish=options["publish"], **import_arguments
        )
