"""The ``reoffend`` command.

Errors a user can fix print one line (``reoffend: error: ...``) and exit with a non-zero
code (2 for bad input files or settings); they never print a traceback. Prefect is only
imported by the commands that run flows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import math
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


def _pounds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of pounds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of pounds, 0 or more")
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
    from evaluation.load.loader import load_data

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
    from evaluation.settings.model import StudySettings, load_study

    overrides = {
        "data_dir": args.data,
        "out_dir": args.out,
        "programmes": tuple(args.programme) if args.programme else None,
        "cutoff": args.cutoff,
        "seed": args.seed,
        "before_days": args.before_days,
        "after_days": args.after_days,
        "waiting_days": args.waiting_days,
        "audience": args.audience,
        "robustness": args.robustness,
        "programme_cost_per_participant": args.programme_cost,
        "work_dir": args.work_dir,
        "keep_work": True if args.keep_work else None,
    }
    if args.study is not None:
        return load_study(args.study, overrides)
    if args.data is None or args.out is None:
        raise SettingsError("give a study file, or both --data and --out")
    return StudySettings(**{k: v for k, v in overrides.items() if v is not None})


def print_headline(results: dict) -> None:
    ba = results["before_after"]
    print(
        f"Before/after: {results['cohort']['participants']:,} participants committed {ba['offences_before']:,} "
        f"offences in the year before and {ba['offences_after']:,} in the year after "
        f"({ba['percent_change']:+.1f}%, 95% CI {ba['percent_change_ci95'][0]:+.1f}% to "
        f"{ba['percent_change_ci95'][1]:+.1f}%)."
    )
    m = results.get("matched")
    if not m:
        print("This before/after fall is not an impact estimate: it includes regression to the mean.")
        return
    rr = m["rate_ratio"]
    cpc = m["comparison_percent_change"]
    direction = "fell" if cpc < 0 else "rose"
    print(
        f"Matched comparison group ({m['comparison']:,} similar people who had not started): their offending "
        f"{direction} {abs(cpc):.1f}% over the same kind of period, without the programme."
    )
    change = 100 * (rr["estimate"] - 1)
    lo, hi = (100 * (v - 1) for v in rr["ci95"])
    verdict = "a significant difference" if rr["p_value"] is not None and rr["p_value"] <= 0.05 else "not a significant difference"
    print(
        f"Impact: participants' reoffending was {change:+.0f}% (95% CI {lo:+.0f}% to {hi:+.0f}%) compared with "
        f"the matched comparison group: {verdict} (p = {rr['p_value']:.3g})."
    )
    costs = results.get("costs")
    if costs:
        from evaluation.report.build import money

        savings, net = costs["savings"], costs["net_benefit"]
        line = (f"Value: cost of crime avoided {money(savings['estimate'])} (95% CI {money(savings['ci95'][0])} to "
                f"{money(savings['ci95'][1])}, {costs['unit_costs']['price_year']} prices)")
        if net:
            line += (f"; net of the programme's cost {money(net['estimate'])} ({money(net['ci95'][0])} to "
                     f"{money(net['ci95'][1])})")
        print(line + ("; the interval includes no saving." if costs["savings_interval_includes_zero"] else "."))
    placebo = results.get("placebo")
    if placebo and placebo.get("estimate") is not None:
        lo, hi = placebo["ci95"]
        shift = -placebo["index_shift_days"]
        print(f"Placebo (index dates {shift} days earlier): rate ratio {placebo['estimate']:.2f} (95% CI {lo:.2f} to {hi:.2f})"
              + (": no difference, as it should be." if lo <= 1 <= hi else
                 ": participants already differed then; see the report's 'How robust is it?'."))
    for warning in m.get("warnings", []):
        print(f"WARNING: {warning}")


def run_flow(settings, *, verbose: bool, quiet: bool) -> dict:
    """Run the evaluate flow, on a temporary local Prefect server that dies with this
    command (see flows/local_server.py) unless PREFECT_API_URL names a running server."""
    from flows import prefect_env
    from flows.local_server import supervised_server

    prefect_env.configure(verbose)
    progress = _Progress(quiet)
    progress("starting Prefect" + ("" if os.environ.get("PREFECT_API_URL") else " (temporary local server, 10-30 s)"))
    with supervised_server():
        from prefect.exceptions import ParameterTypeError

        from flows.evaluate import evaluate

        progress(f"evaluating {settings.name}: load -> validate -> cohorts -> before/after -> match -> estimate -> "
                 + ("costs, sensitivity, placebo, subgroups" if settings.robustness else "costs") + " -> outputs")
        try:
            return evaluate(settings)
        except ParameterTypeError as exc:
            raise SettingsError(str(exc).splitlines()[-1].strip(" -")) from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    from evaluation.files.output_folder import check_output_folder

    settings = settings_from_args(args)
    check_output_folder(settings.out_dir, data_dir=settings.data_dir)  # before Prefect starts
    results = run_flow(settings, verbose=args.verbose, quiet=args.quiet)
    print_headline(results)
    print(f"report:  {settings.out_dir / 'report.html'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flows import prefect_env

    prefect_env.configure(args.verbose)
    from flows.serve import deploy_to_pool, serve_studies

    if args.pool:
        for name in deploy_to_pool(args.studies_dir, args.pool):
            print(f"deployed {name} to work pool '{args.pool}'")
        print(f"start workers with: prefect worker start --pool {args.pool}")
        return 0
    serve_studies(args.studies_dir, limit=args.limit)
    return 0


def cmd_pseudonymise(args: argparse.Namespace) -> int:
    from evaluation.load.pseudonymise import key_from_environment, pseudonymise

    key = key_from_environment()
    report = pseudonymise(args.in_dir, args.out, id_column=args.id_column, key=key, progress=_Progress(args.quiet))
    print(report.summary())
    print(f"written to {args.out}; keep {'REOFFEND_PSEUDONYM_KEY'} secret and the same for every extract")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from flows import bench

    argv = ["--sizes", args.sizes, "--repeats", str(args.repeats), "--out", str(args.out)]
    return bench.main(argv)


def cmd_reproduce(args: argparse.Namespace) -> int:
    from evaluation.provenance.reproduce import reproduce

    report = reproduce(args.manifest, progress=_Progress(args.quiet))
    print(report.summary())
    return 0 if report.identical else 1


def _read_table(path: Path):
    import polars as pl

    if not path.is_file():
        raise SettingsError(f"{path}: file not found")
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema_length=10000)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise SettingsError(f"{path}: cannot be read as {'Parquet' if path.suffix == '.parquet' else 'CSV'} ({exc})") from None


def cmd_match(args: argparse.Namespace) -> int:
    import json

    import numpy as np
    import polars as pl

    from evaluation.estimate.impact import matched_difference
    from evaluation.match.matcher import PropensityMatcher

    frame = _read_table(args.data)
    covariates = [c.strip() for c in args.covariates.split(",") if c.strip()]
    exact = [c.strip() for c in args.exact.split(",")] if args.exact else []
    for col in [args.treatment, args.outcome, *covariates, *exact]:
        if col not in frame.columns:
            raise SettingsError(f"{args.data}: no column '{col}' (columns: {', '.join(frame.columns)})")
    values = set(frame[args.treatment].drop_nulls().unique().to_list())
    if not values <= {0, 1, True, False}:
        raise SettingsError(f"treatment column '{args.treatment}' must hold 0/1 (or true/false)")
    before = frame.height
    frame = frame.drop_nulls([args.treatment, args.outcome, *covariates, *exact])
    dropped = before - frame.height
    frame = frame.with_columns(pl.col(args.treatment).cast(pl.Int8))
    matcher = PropensityMatcher(
        caliper=args.caliper, distance=args.distance, ratio=args.ratio, replace=args.replace,
        order=args.order, exact=exact, seed=args.seed,
    ).fit(frame, treatment=args.treatment, covariates=covariates)
    effect = matched_difference(frame[args.outcome].cast(pl.Float64).to_numpy(), matcher.matches_)
    d = effect.difference
    treat = frame[args.treatment].to_numpy() == 1
    y = frame[args.outcome].cast(pl.Float64).to_numpy()
    naive = float(y[treat].mean() - y[~treat].mean())
    out = {
        "treated": matcher.counts_.matched,
        "comparison": matcher.counts_.comparison_units,
        "counts": matcher.counts_.to_dict(),
        "rows_dropped_for_missing_values": dropped,
        "effect": {"estimate": d.estimate, "ci95": list(d.ci95), "p_value": d.p_value, "method": d.method},
        "naive_difference": naive,
        "treated_mean": effect.treated,
        "comparison_mean": effect.comparison,
        "balance": [
            {"covariate": r.covariate, "smd_before": r.smd_before, "smd_after": r.smd_after,
             "variance_ratio_after": r.variance_ratio_after, "ecdf_max_after": r.ecdf_max_after}
            for r in matcher.balance_.rows
        ],
        "max_abs_smd_after": matcher.balance_.max_abs_smd_after,
        "imbalanced_after": matcher.balance_.imbalanced,
        "smd_convention": matcher.balance_.convention,
    }
    if args.json:
        print(json.dumps(out, indent=2, default=lambda v: None if isinstance(v, float) and not np.isfinite(v) else v))
        return 0
    print(matcher.balance_.summary())
    print(f"\nSMD: {matcher.balance_.convention}")
    c = matcher.counts_
    print(f"\nmatched {c.matched:,} of {c.treated:,} treated to {c.comparison_units:,} comparisons "
          f"({c.no_match_within_caliper:,} no match within the caliper, {c.outside_common_support:,} outside common support)")
    if dropped:
        print(f"{dropped:,} rows with a missing value were left out")
    print(f"naive difference (treated - all untreated): {naive:,.2f}")
    print(f"matched difference in {args.outcome} (treated - comparison): {d.estimate:,.2f} "
          f"(95% CI {d.ci95[0]:,.2f} to {d.ci95[1]:,.2f}; p = {d.p_value:.4g})")
    if matcher.balance_.imbalanced:
        print("WARNING: poor balance after matching (|SMD| > 0.1): " + ", ".join(matcher.balance_.imbalanced))
    return 0


def _caliper(text: str) -> float | None:
    if text.lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or 'none'") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive, or 'none'")
    return value


def cmd_demo(args: argparse.Namespace) -> int:
    from evaluation.settings.model import StudySettings
    from synthetic_data import SOUTHAMPTON, generate

    from evaluation.files.output_folder import check_output_folder

    check_output_folder(args.out, data_dir=args.data)
    progress = _Progress(args.quiet)
    progress(f"generating the southampton scenario into {args.data}")
    generate(SOUTHAMPTON, args.data, progress=progress)
    # Southampton spent about £750,000 a year on about 800 people (as in studies/southampton.toml)
    settings = StudySettings(data_dir=args.data, out_dir=args.out, name="southampton",
                             programme_cost_per_participant=940, keep_work=args.keep_work)
    results = run_flow(settings, verbose=args.verbose, quiet=args.quiet)
    print_headline(results)
    print(f"report:  {args.out / 'report.html'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reoffend",
        description="Evaluate whether a programme for offenders reduced reoffending: load anonymised "
        "records, build before/after cohorts and matched comparison groups, and write evidence summaries.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="print no progress lines")
    common.add_argument("--verbose", action="store_true", help="show Prefect's and the tasks' logs")
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
    p.add_argument("--audience", choices=["analyst", "partner"], default=None,
                   help="analyst (default): everything; partner: aggregates only, small counts suppressed")
    p.add_argument("--no-robustness", dest="robustness", action="store_false", default=None,
                   help="skip the sensitivity table, placebo test and subgroups (each re-matches: faster)")
    p.add_argument("--programme-cost", type=_pounds, default=None, metavar="POUNDS",
                   help="programme cost per participant, for net benefit and the benefit-cost ratio")
    p.add_argument("--work-dir", type=Path, default=None, metavar="DIR",
                   help="where to keep the person-level working database (default: a private per-user "
                   "state folder, ~/.local/state/reoffend/work; never beside the outputs)")
    p.add_argument("--keep-work", action="store_true",
                   help="keep the working database and rejects.csv after the run (removed by default)")
    p.set_defaults(handler=cmd_evaluate)

    p = sub.add_parser(
        "serve",
        parents=[common],
        help="serve every study in a folder on its schedule (needs a running Prefect server)",
        description="Serve one Prefect deployment per study file (*.toml) in STUDIES_DIR, each on its "
        "[study.schedule] cron schedule. Needs a running Prefect server (`prefect server start`) and "
        "PREFECT_API_URL; see the README's Scheduled evaluations. Stop with Ctrl-C: schedules stay active.",
    )
    p.add_argument("studies_dir", type=Path, help="folder of study files")
    p.add_argument("--limit", type=_positive_int, default=None, help="most evaluations to run at once")
    p.add_argument("--pool", default=None, metavar="NAME",
                   help="instead of serving, deploy every study to this Prefect work pool (type process) and "
                   "exit; `prefect worker start --pool NAME` processes, on any machines, then run them")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser(
        "pseudonymise",
        parents=[common],
        help="replace raw identifiers with keyed hashes (HMAC-SHA256) before sharing data",
        description="Copy every CSV/Parquet table of IN_DIR to OUT_DIR with the identifier column replaced by "
        "HMAC-SHA256(key, identifier) in hex. The key is read from the environment variable "
        "REOFFEND_PSEUDONYM_KEY (at least 32 bytes) and written nowhere; the same key gives the same "
        "pseudonyms in every extract, so monthly data still link up.",
    )
    p.add_argument("in_dir", type=Path, help="folder of tables with raw identifiers")
    p.add_argument("--out", required=True, type=Path, help="folder to write the pseudonymised tables into")
    p.add_argument("--id-column", required=True, help="the identifier column, e.g. person_id or pnc_number")
    p.set_defaults(handler=cmd_pseudonymise)

    p = sub.add_parser(
        "bench",
        parents=[common],
        help="benchmark the evaluation on the national scenario at several sizes",
        description="Generate the national scenario at fractions of 2 million people (20 million offences, "
        "10,000 participants) and time every stage of the evaluation, with peak memory and growth between "
        "sizes; writes bench.json. The full run (3 sizes x 3 repeats) takes about 15 minutes.",
    )
    p.add_argument("--sizes", default="0.25,0.5,1", help="fractions of the national scenario (default 0.25,0.5,1)")
    p.add_argument("--repeats", type=_positive_int, default=3, help="runs per size, median reported (default 3)")
    p.add_argument("--out", type=Path, default=Path("bench.json"), help="where to write bench.json")
    p.set_defaults(handler=cmd_bench)

    p = sub.add_parser(
        "reproduce",
        parents=[common],
        help="re-run a past evaluation from its manifest and compare the results",
        description="Re-run the evaluation recorded in OUT_DIR/manifest.json. The input files' SHA-256 are "
        "checked first (a changed input is reported by file, exit 1); then the results are compared with "
        "the recorded results.json (exit 0 when identical, 1 otherwise, with the differences).",
    )
    p.add_argument("manifest", type=Path, help="the manifest.json of the run to reproduce")
    p.set_defaults(handler=cmd_reproduce)

    p = sub.add_parser(
        "match",
        parents=[common],
        help="propensity score matching on any person-level table",
        description="Match treated rows to similar untreated rows of your own table (CSV or Parquet) by "
        "propensity score, print covariate balance and the matched difference in an outcome. Greedy nearest "
        "neighbour on a sorted score; --distance probability --caliper none --order descending reproduces "
        "R MatchIt's defaults.",
    )
    p.add_argument("--data", required=True, type=Path, help="CSV or Parquet file, one row per person")
    p.add_argument("--treatment", required=True, help="0/1 column: 1 = took part")
    p.add_argument("--covariates", required=True, help="comma-separated covariate columns")
    p.add_argument("--outcome", required=True, help="numeric outcome column")
    p.add_argument("--caliper", type=_caliper, default=0.2, help="caliper in SDs of the distance, or 'none' (default 0.2)")
    p.add_argument("--distance", choices=["logit", "probability"], default="logit", help="match on (default logit)")
    p.add_argument("--order", choices=["descending", "ascending", "random", "data"], default="descending",
                   help="matching order of treated rows by score (default descending)")
    p.add_argument("--ratio", type=_positive_int, default=1, help="comparisons per treated row (default 1)")
    p.add_argument("--replace", action="store_true", help="match with replacement")
    p.add_argument("--exact", default=None, help="comma-separated columns to match exactly on")
    p.add_argument("--seed", type=int, default=0, help="seed for --order random")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(handler=cmd_match)

    p = sub.add_parser(
        "demo",
        parents=[common],
        help="generate the southampton scenario and evaluate it end to end",
        description="Generate the southampton scenario (588 participants, a known 12%% programme effect), "
        "load it and run the evaluation, printing the headline and where the report is.",
    )
    p.add_argument("--data", type=Path, default=Path("data/southampton"), help="folder for the generated data")
    p.add_argument("--out", type=Path, default=Path("out/southampton"), help="folder for the evaluation's outputs")
    p.add_argument("--keep-work", action="store_true", help="keep the working database after the run")
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
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            print(f"reoffend: error: the disk is full ({exc.filename or 'writing'}); free some space and run again",
                  file=sys.stderr)
            return 1
        return _internal(exc)
    except Exception as exc:  # a bug, not a user error: one line, full detail on request
        if _disk_full(exc):
            print("reoffend: error: the disk is full; free some space and run again", file=sys.stderr)
            return 1
        return _internal(exc)


def _disk_full(exc: BaseException) -> bool:
    """DuckDB and Prefect wrap the operating system's error in their own."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _internal(exc: BaseException) -> int:
    if os.environ.get("REOFFEND_DEBUG"):
        raise exc
    print(f"reoffend: internal error: {exc.__class__.__name__}: {exc} "
          "(set REOFFEND_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
