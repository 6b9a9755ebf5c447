"""What the commands share: the ``reoffend`` Typer app, its common options, the progress
lines, and evaluating a study with its result printed (``evaluate`` and ``demo``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from cli.progress import show_progress

app = typer.Typer(name="reoffend", add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Evaluate whether a programme for offenders reduced reoffending: load "
                  "anonymised records, build before/after cohorts and matched comparison groups, write evidence summaries.")
Quiet = Annotated[bool, typer.Option("--quiet", help="print no progress lines")]
Verbose = Annotated[bool, typer.Option("--verbose", help="show Prefect's and the tasks' logs")]
Out = Annotated[Path, typer.Option("--out", help="output folder")]


def say(quiet: bool):
    """The progress lines' printer (none when ``quiet``)."""
    show_progress(quiet)
    return logging.getLogger("reoffend.progress").info


def evaluate_and_print(settings, *, verbose: bool, quiet: bool) -> None:
    """Run the checks that need no cohorts, then the evaluation as a Prefect flow; print its
    headline lines (the audience's) and where the report is."""
    from evaluation.load.preflight import preflight

    show_progress(quiet)
    preflight(settings)  # every check that needs no cohorts, before the statistics and Prefect load
    from evaluation.pipeline.runner import audience_view
    from evaluation.report.wording import cli_lines
    from flows.run import run_flow

    results = run_flow(settings, verbose=verbose)
    print("\n".join(cli_lines(audience_view(settings, results))))
    print(f"report:  {settings.out_dir / 'report.html'}")
