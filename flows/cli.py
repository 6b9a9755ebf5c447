"""The ``reoffend`` command.

Errors a user can fix print one line (``reoffend: error: ...``) and exit with a non-zero
code (2 for bad input files or settings); they never print a traceback. Prefect is only
imported by the commands that run flows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from evaluation.errors import ReoffendError, SettingsError


class _Progress:
    """Progress lines on stderr with elapsed seconds; silent with --quiet."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:6.1f}s] {message}", file=sys.stderr, flush=True)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError("must be at least 0 and below 1 (0.25 = 25% fewer offences)")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def cmd_synth(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from synthetic_data import SCENARIOS, generate

    scenario = SCENARIOS[args.scenario]
    changes: dict = {}
    if args.effect is not None:
        changes["effect"] = args.effect
    if args.people is not None:
        changes["people"] = args.people
    if args.participants is not None:
        changes["participants"] = args.participants
    if args.format is not None:
        changes["file_format"] = args.format
    scenario = replace(scenario, **changes)
    if scenario.participants * 10 > scenario.people:
        raise SettingsError(f"--people must be at least 10 x participants ({scenario.participants * 10:,})")
    result = generate(scenario, args.out, seed=args.seed, progress=_Progress(args.quiet))
    for name, rows in result.rows.items():
        print(f"{name:<14}{rows:>12,} rows  {result.files[name]}")
    print(f"true effect: {scenario.effect:.0%} fewer offences in the year after starting; see {result.out_dir / 'truth.json'}")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from evaluation.loading import load_data

    report = load_data(args.data_dir, args.db, cutoff=args.cutoff, progress=_Progress(args.quiet))
    print(report.summary())
    print(f"database: {report.db_path}\nrejects:  {report.rejects_path}\nreport:   {report.report_path}")
    return 0


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def settings_from_args(args: argparse.Namespace):
    """Study settings from a study file and/or options (options win)."""
    from evaluation.settings import StudySettings, load_study

    overrides = {
        "data_dir": args.data,
        "out_dir": args.out,
        "programmes": tuple(args.programme) if args.programme else None,
        "cutoff": args.cutoff,
        "seed": args.seed,
        "before_days": args.before_days,
        "after_days": args.after_days,
        "waiting_days": args.waiting_days,
    }
    if args.study is not None:
        return load_study(args.study, overrides)
    if args.data is None or args.out is None:
        raise SettingsError("give a study file, or both --data and --out")
    return StudySettings(**{k: v for k, v in overrides.items() if v is not None})


def print_headline(results: dict) -> None:
    ba = results["before_after"]
    rr = ba["rate_ratio"]
    print(
        f"{results['cohort']['participants']:,} participants: {ba['offences_before']:,} offences in the year "
        f"before, {ba['offences_after']:,} in the year after ({ba['percent_change']:+.1f}%, 95% CI "
        f"{ba['percent_change_ci95'][0]:+.1f}% to {ba['percent_change_ci95'][1]:+.1f}%; rate ratio "
        f"{rr['estimate']:.2f}, {rr['ci95'][0]:.2f}-{rr['ci95'][1]:.2f})."
    )
    print("This before/after fall is not an impact estimate: it includes regression to the mean.")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from evaluation.pipeline import run_evaluation

    settings = settings_from_args(args)
    results = run_evaluation(settings, progress=_Progress(args.quiet))
    print_headline(results)
    print(f"results: {settings.out_dir / 'results.json'}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from evaluation.pipeline import run_evaluation
    from evaluation.settings import StudySettings
    from synthetic_data import SOUTHAMPTON, generate

    progress = _Progress(args.quiet)
    progress(f"generating the southampton scenario into {args.data}")
    generate(SOUTHAMPTON, args.data, progress=progress)
    settings = StudySettings(data_dir=args.data, out_dir=args.out, name="southampton")
    results = run_evaluation(settings, progress=progress)
    print_headline(results)
    print(f"results: {args.out / 'results.json'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reoffend",
        description="Evaluate whether a programme for offenders reduced reoffending: load anonymised "
        "records, build before/after cohorts and matched comparison groups, and write evidence summaries.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="print no progress lines")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "synth",
        parents=[common],
        help="generate synthetic records with a known programme effect",
        description="Generate anonymised synthetic records in the data contract, with a known programme "
        "effect recorded in truth.json. Same seed, same bytes.",
    )
    p.add_argument("scenario", choices=["southampton", "national"], help="southampton: 588 participants, "
                   "calibrated to the published counts; national: 2 million people for benchmarks")
    p.add_argument("--out", required=True, type=Path, help="folder to write the tables into")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's own)")
    p.add_argument("--effect", type=_fraction, default=None,
                   help="true programme effect: 0.25 = 25%% fewer offences in the year after starting "
                   "(southampton default 0.12)")
    p.add_argument("--people", type=_positive_int, default=None, help="number of people in the data")
    p.add_argument("--participants", type=_positive_int, default=None, help="number of programme participants")
    p.add_argument("--format", choices=["csv", "parquet"], default=None, help="file format (default: the scenario's)")
    p.set_defaults(handler=cmd_synth)

    p = sub.add_parser(
        "load",
        parents=[common],
        help="load a data folder into a DuckDB file, rejecting bad rows with reasons",
        description="Load people, offences, participants (and optionally custody) from CSV or Parquet into "
        "a DuckDB file. Bad rows go to rejects.csv with reasons; load_report.json reconciles "
        "read = loaded + rejected. A problem with a whole file exits with code 2 and changes nothing.",
    )
    p.add_argument("data_dir", type=Path, help="folder with people, offences, participants[, custody] files")
    p.add_argument("--db", required=True, type=Path, help="DuckDB file to create or replace")
    p.add_argument("--cutoff", type=_date, default=None,
                   help="the data's cut-off date YYYY-MM-DD (default: the latest outcome_date)")
    p.set_defaults(handler=cmd_load)

    p = sub.add_parser(
        "evaluate",
        parents=[common],
        help="evaluate a programme: cohorts, before/after and significance tests",
        description="Load a data folder, build the participant cohort and evaluate offending before and "
        "after the programme start, writing OUT_DIR/results.json. Give a study file (TOML), or --data and "
        "--out; options override the study file.",
    )
    p.add_argument("study", nargs="?", type=Path, default=None, help="study file (TOML), see studies/")
    p.add_argument("--data", type=Path, default=None, help="data folder (see docs/data-contract.md)")
    p.add_argument("--out", type=Path, default=None, help="output folder (replaced atomically)")
    p.add_argument("--programme", action="append", default=None, metavar="NAME",
                   help="a programme to evaluate (repeat for several, pooled; default: every programme)")
    p.add_argument("--cutoff", type=_date, default=None, help="data cut-off YYYY-MM-DD (default: latest outcome_date)")
    p.add_argument("--seed", type=int, default=None, help="seed for the bootstrap and matching")
    p.add_argument("--before-days", type=_positive_int, default=None, help="before window in days (default 365)")
    p.add_argument("--after-days", type=_positive_int, default=None, help="after window in days (default 365)")
    p.add_argument("--waiting-days", type=_non_negative_int, default=None,
                   help="days after a window within which an offence must be proven (default 182)")
    p.set_defaults(handler=cmd_evaluate)

    p = sub.add_parser(
        "demo",
        parents=[common],
        help="generate the southampton scenario and evaluate it end to end",
        description="Generate the southampton scenario (588 participants, a known 12%% programme effect), "
        "load it and run the evaluation, printing the headline and where the report is.",
    )
    p.add_argument("--data", type=Path, default=Path("data/southampton"), help="folder for the generated data")
    p.add_argument("--out", type=Path, default=Path("out/southampton"), help="folder for the evaluation's outputs")
    p.set_defaults(handler=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ReoffendError as exc:
        print(f"reoffend: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reoffend: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user error: one line, full detail on request
        if os.environ.get("REOFFEND_DEBUG"):
            raise
        print(f"reoffend: internal error: {exc.__class__.__name__}: {exc} "
              "(set REOFFEND_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
