"""manage.py metrics_report --month YYYY-MM: the month's program metrics as CSV and printable HTML."""

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from accounts.models import Program
from crt.scoping import system_read
from metrics import periods
from metrics.docs import definitions_markdown
from metrics.report import STEPS, write_report


class Command(BaseCommand):
    help = "Write a month's program metrics (every measure and breakdown) as CSV and printable HTML."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="The month to report, YYYY-MM.")
        parser.add_argument("--program", help="Program slug (needed when there is more than one program).")
        parser.add_argument(
            "--output-dir", type=Path, default=None, help="Where to write the files (default: var/reports)."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--write-definitions",
            type=Path,
            metavar="PATH",
            help="Instead of a report, write the measure definitions as Markdown (docs/metrics.md).",
        )

    @system_read("the monthly metrics report counts every program's records")
    def handle(self, *args, **options):
        if options["write_definitions"]:
            options["write_definitions"].write_text(definitions_markdown(), encoding="utf-8")
            self.stdout.write(f"Wrote the definitions to {options['write_definitions']}")
            return
        if not options["month"]:
            raise CommandError("Give the month to report: --month YYYY-MM.")
        try:
            period = periods.parse_month(options["month"])
            periods.check_years(period, timezone.localdate())
        except ValueError as error:
            raise CommandError(str(error)) from None
        program = self._program(options["program"])
        directory = options["output_dir"] or Path(settings.VAR_DIR) / "reports"
        bar = tqdm(
            total=STEPS,
            desc=f"metrics {period.first_day:%Y-%m}",
            unit=" step",
            file=options.get("stderr") or sys.stderr,
            disable=options["no_progress"],
        )
        with bar:

            def step(description: str) -> None:
                bar.set_postfix_str(description)
                bar.update(1)

            written = write_report(program, period, directory, progress=step)
        self.stdout.write(f"Wrote {written.figures:,} figures to {written.csv}")
        self.stdout.write(f"Wrote the printable report to {written.html}")

    def _program(self, slug: str | None) -> Program:
        if slug:
            try:
                return Program.objects.get(slug=slug)
            except Program.DoesNotExist:
                raise CommandError(f"No program with the slug {slug!r}.") from None
        programs = list(Program.objects.order_by("pk")[:2])
        if len(programs) != 1:
            raise CommandError("Name the program with --program SLUG." if programs else "There is no program yet.")
        return programs[0]
