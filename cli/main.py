"""The ``reoffend`` command: each command parses its options, calls one library function
and prints. Errors a user can fix print one line (``reoffend: error: ...``) with exit code 2
for bad input or settings, never a traceback; Prefect is imported only by the commands
that run flows."""

from __future__ import annotations

import datetime as dt
import errno
import inspect
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer import _click as click  # typer's own copy of click raises these

from cli import app as app_module
from cli.app import Out, Quiet, Verbose, app, say
from cli.options import setting_options
from cli.progress import show_progress
from evaluation import __version__
from evaluation.errors import ReoffendError


@app.callback(invoke_without_command=True)
def _root(version: Annotated[bool, typer.Option("--version", help="print the version and exit")] = False) -> None:
    if version:
        print(f"reoffend {__version__}")
        raise typer.Exit(0)


@app.command()
def synth(scenario: Annotated[str, typer.Argument(help="southampton (588 participants, calibrated to the published "
                                                     "counts) or national (2 million people, for benchmarks)")],
          out: Out, seed: Optional[int] = None,
          effect: Annotated[Optional[float], typer.Option(help="true effect: 0.25 = 25% fewer offences in the year "
                                                          "after starting (southampton default 0.10)")] = None,
          people: Optional[int] = None, participants: Optional[int] = None,
          format: Annotated[Optional[str], typer.Option("--format", help="csv or parquet")] = None,
          unrecorded_trait: Annotated[bool, typer.Option(
              help="add a trait no record shows (30% of people; referral x3, offending x0.6): selection "
                   "matching cannot remove, for trying the falsification check")] = False,
          council_list: Annotated[bool, typer.Option(
              help="write the participants as a council's list by name and date of birth (council_list.csv) "
                   "and the police's identified people (identified.csv), for reoffend link")] = False,
          quiet: Quiet = False) -> None:
    """Generate synthetic records with a known programme effect (truth.json); same seed, same bytes."""
    from synthetic_data import UnrecordedTrait, generate, scenario_with

    chosen = scenario_with(scenario, effect=effect, people=people, participants=participants, file_format=format,
                           trait=UnrecordedTrait() if unrecorded_trait else None)
    result = generate(chosen, out, seed=seed, progress=say(quiet), council_list=council_list)
    for name, rows in result.rows.items():
        print(f"{name:<14}{rows:>12,} rows  {result.files[name]}")
    print(f"true effect: {chosen.effect:.0%} fewer offences in the year after starting; see {result.out_dir / 'truth.json'}")


@app.command()
def load(data_dir: Path, db: Annotated[Path, typer.Option(help="DuckDB file to create or replace")],
         cutoff: Optional[dt.datetime] = typer.Option(None, formats=["%Y-%m-%d"],
                                                      help="data cut-off (default: the latest outcome_date)"),
         date_format: Annotated[str, typer.Option(help="how the files write their dates: YYYY-MM-DD, DD/MM/YYYY, "
                                                       "DD-MM-YYYY, DD.MM.YYYY or MM/DD/YYYY")] = "YYYY-MM-DD",
         column: Annotated[Optional[list[str]], typer.Option(
             metavar="COLUMN=HEADER", help="the column map: which header is which column of the data contract, "
                                           "e.g. person_id='PNC ID' (repeat for several)")] = None,
         participants: Annotated[Optional[Path], typer.Option(
             help="the participants file, when it is not the data folder's own")] = None,
         quiet: Quiet = False) -> None:
    """Load a data folder into a DuckDB file; bad rows go to rejects.csv with reasons."""
    from pydantic import ValidationError

    from evaluation.errors import SettingsError
    from evaluation.load.loader import load_data
    from evaluation.load.preflight import check_date_format, check_table_files
    from evaluation.settings.model import DataSettings

    try:  # validated as a study's
        data = DataSettings(folder=data_dir, date_format=date_format, columns=column or {}, participants=participants)
    except ValidationError as exc:
        raise SettingsError("; ".join(f"{'--column' if e['loc'][0] == 'columns' else '--' + str(e['loc'][0])}: "
                                      f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())) from None
    check_table_files(data_dir, data.columns, participants)  # every missing column named at once, with its probable header
    check_date_format(data_dir, data.date_format, data.columns, participants)  # dates written otherwise: one line, at once
    report = load_data(data_dir, db, cutoff=cutoff.date() if cutoff else None, date_format=data.date_format,
                       columns=data.columns, participants=participants, progress=say(quiet))
    print(f"{report.summary()}\ndatabase: {report.db_path}\nrejects:  {report.rejects_path}\nreport:   {report.report_path}")


def evaluate(study: Optional[Path] = None, verbose: bool = False, quiet: bool = False, **options) -> None:
    """Evaluate a programme: cohorts, before/after, matched comparison, checks and reports.
    Give a study file (TOML, see studies/), or --data and --out; options override the file."""
    from evaluation.settings.model import study_settings

    settings = study_settings(study, **{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})
    app_module.evaluate_and_print(settings, verbose=verbose, quiet=quiet)


evaluate.__signature__ = inspect.Signature([
    inspect.Parameter("study", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=Annotated[
        Optional[Path], typer.Argument(help="study file (TOML), see studies/")]),
    *setting_options(),
    inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Verbose),
    inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Quiet),
])
app.command()(evaluate)
import cli.demo  # noqa: E402, F401  (registered here, to come after evaluate in --help)


@app.command()
def match(data: Annotated[Path, typer.Option(help="CSV or Parquet file, one row per person")],
          treatment: Annotated[str, typer.Option(help="0/1 column: 1 = took part")],
          covariates: Annotated[str, typer.Option(help="comma-separated numeric covariate columns")],
          outcome: Annotated[str, typer.Option(help="numeric outcome column")],
          caliper: Annotated[str, typer.Option(help="caliper in SDs of the distance, or 'none'")] = "0.2",
          distance: Annotated[str, typer.Option(help="logit or probability")] = "logit",
          order: Annotated[str, typer.Option(help="descending, ascending, random or data")] = "descending",
          ratio: int = 1, replace: bool = False,
          fill: Annotated[str, typer.Option(help="k:1 fill: rounds (MatchIt's) or participant")] = "rounds",
          exact: Annotated[Optional[str], typer.Option(help="comma-separated columns to match exactly on")] = None,
          seed: int = 0, json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False) -> None:
    """Propensity score matching on any person-level table: balance and the matched difference."""
    from evaluation.match.matcher import parse_caliper
    from evaluation.match.table import match_table

    split = lambda text: [c.strip() for c in (text or "").split(",") if c.strip()]  # noqa: E731
    result = match_table(data, treatment=treatment, covariates=split(covariates), outcome=outcome,
                         caliper=parse_caliper(caliper), distance=distance, ratio=ratio, replace=replace, order=order,
                         fill=fill, exact=split(exact), seed=seed)
    print(result.to_json() if json else result.summary())


@app.command()
def serve(studies_dir: Path, limit: Optional[int] = None,
          pool: Annotated[Optional[str], typer.Option(help="deploy to this work pool instead of serving")] = None,
          verbose: Verbose = False) -> None:
    """Serve every study in a folder on its schedule (needs a running Prefect server)."""
    from flows import prefect_env

    prefect_env.configure(verbose)
    from flows.serve import deploy_to_pool, serve_studies

    if pool:
        for name in deploy_to_pool(studies_dir, pool):
            print(f"deployed {name} to work pool '{pool}'")
        print(f"start workers with: prefect worker start --pool {pool}")
    else:
        print(f"serving the studies in {studies_dir}: a line per run as it starts and ends; Ctrl-C to stop "
              "(schedules stay active)", flush=True)
        serve_studies(studies_dir, limit=limit)
        print("stopped serving; the schedules stay active and wait for `reoffend serve` again", flush=True)


@app.command()
def reproduce(manifest: Path, data: Annotated[Optional[Path], typer.Option(help="where the inputs are now")] = None,
              participants: Annotated[Optional[Path], typer.Option(
                  help="where the participants file is now, when the run read it from outside the data folder "
                       "(its linkage.json beside it)")] = None,
              out: Annotated[Optional[Path], typer.Option(help="keep the re-run's outputs in this new folder")] = None,
              quiet: Quiet = False) -> None:
    """Re-run a past evaluation from its manifest; exit 0 when results.json is identical."""
    from evaluation.provenance.reproduce import reproduce as run

    show_progress(quiet)
    report = run(manifest, data_dir=data, participants=participants, out_dir=out)
    print(report.summary())
    raise typer.Exit(0 if report.identical else 1)


@app.command()
def pseudonymise(in_dir: Path, out: Out, id_column: Annotated[str, typer.Option(help="e.g. person_id")],
                 keep: Annotated[Optional[list[str]], typer.Option(
                     help="keep this column although it looks like a direct identifier (repeat for several)")] = None,
                 quiet: Quiet = False) -> None:
    """Replace raw identifiers with HMAC-SHA256 pseudonyms (key from REOFFEND_PSEUDONYM_KEY) and
    leave out names, dates of birth, postcodes and other direct identifiers."""
    from evaluation.load.pseudonymise import key_from_environment
    from evaluation.load.pseudonymise import pseudonymise as run

    print(run(in_dir, out, id_column=id_column, key=key_from_environment(), keep=tuple(keep or ()),
              progress=say(quiet)).summary())
    print(f"written to {out}: pseudonymised, not anonymous (dates and characteristics can still single a person "
          "out), so share it only as your data-sharing agreement allows; keep REOFFEND_PSEUDONYM_KEY secret and the "
          "same for every extract")


@app.command()
def bench(sizes: str = "0.25,0.5,1", repeats: int = 3, out: Path = Path("bench.json"),
          no_peers: bool = typer.Option(False, "--no-peers", help="skip the psmpy comparison (about 13 minutes); "
                                        "the previous run's is kept")) -> None:
    """Benchmark the evaluation on the national scenario at several sizes (make bench)."""
    from benchmarks import bench as run

    raise typer.Exit(run.main(["--sizes", sizes, "--repeats", str(repeats), "--out", str(out),
                               *(["--no-peers"] if no_peers else [])]))


def _disk_full(exc: BaseException | None) -> bool:
    """DuckDB and Prefect wrap the operating system's error in their own."""
    while exc is not None:
        if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or any(
                text in str(exc) for text in ("No space left on device", "Disk quota exceeded")):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def main(argv: list[str] | None = None) -> int:
    try:
        result = app(args=argv, prog_name="reoffend", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:  # a bad option or argument: one line, exit 2
        ctx = getattr(exc, "ctx", None)
        command = "reoffend" + (f" {ctx.info_name}" if ctx and ctx.info_name != "reoffend" else "")
        print(f"reoffend: error: {exc.format_message()} (see {command} --help)", file=sys.stderr)
        return 2
    except ReoffendError as exc:
        print(f"reoffend: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reoffend: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user error: one line, full detail on request
        if _disk_full(exc):
            print("reoffend: error: the disk is full; free some space and run again", file=sys.stderr)
            return 1
        if os.environ.get("REOFFEND_DEBUG"):
            raise
        print(f"reoffend: internal error: {exc.__class__.__name__}: {exc} "
              "(set REOFFEND_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return 1


# the library commands, in their own module, register themselves on the app (after the others)
import cli.batch  # noqa: E402, F401
import cli.library  # noqa: E402, F401
import cli.link  # noqa: E402, F401

if __name__ == "__main__":
    sys.exit(main())
