"""The national-scale benchmark: ``reoffend bench`` / ``make bench``.

For each size (a fraction of 2,000,000 people, about 20 million offences and 10,000
participants) a fresh process generates the national scenario, then times every stage
of the evaluation: a plain DuckDB read of the same files (the baseline for the load),
load with validation, cohorts (participants, comparison pool, outcomes, covariates),
before/after statistics, propensity model and matching, impact estimates, and reports.
It records peak memory (RSS) and rows per second. Prefect's start-up is timed
separately (a fixed cost per run, not work that grows with the data), quiet and loaded,
with the command's temporary server and with a long-running one
(:mod:`benchmarks.prefect_startup`).
Results go to bench.json: each size's median over the repeats, and the growth factor
between sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks import prefect_startup

FULL_PEOPLE, FULL_PARTICIPANTS = 2_000_000, 10_000
#: Issue 16's targets at 1x: the whole evaluation, every check included.
TARGETS = {
    "evaluation_with_checks_seconds": 25.0,
    "peak_rss_gb": 4.0,
    "load_vs_plain_read": 1.3,
    "candidates_per_participant": 50,
}


def _plain_read_seconds(data: Path, db: Path) -> float:
    import duckdb

    from evaluation.db.queries import run_sql

    con = duckdb.connect(str(db))
    start = time.perf_counter()
    for path in sorted(data.glob("*.parquet")):
        con.register("plain_read", con.read_parquet(str(path)))
        run_sql(con, "common/table_from_view", identifiers={"table": path.stem, "view": "plain_read"})
        con.unregister("plain_read")
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def child(size: float, workdir: Path, seed: int) -> dict:
    """Run one size in this process and return its measurements: one timing for every
    step of :data:`evaluation.pipeline.steps.STEPS` that applies, and totals by stage."""
    from evaluation.pipeline.runner import run_steps
    from evaluation.settings.model import StudySettings
    from synthetic_data import NATIONAL, generate

    scenario = replace(NATIONAL, people=int(FULL_PEOPLE * size), participants=int(FULL_PARTICIPANTS * size))
    data, out = workdir / "data", workdir / "out"
    t = time.perf_counter()
    generated = generate(scenario, data, seed=seed)
    generate_seconds = time.perf_counter() - t
    plain_read = _plain_read_seconds(data, workdir / "plain.duckdb")
    settings = StudySettings(data_dir=data, out_dir=out, name=f"national x{size}", bootstrap_resamples=500,
                             work_dir=workdir / "work")
    steps: dict[str, float] = {}
    by_stage: dict[str, float] = {}

    def done(step, seconds: float) -> None:
        steps[step.key] = seconds
        by_stage[step.stage] = by_stage.get(step.stage, 0.0) + seconds

    values = run_steps(settings, on_done=done)
    evaluation = sum(v for stage, v in by_stage.items() if stage != "checks")
    match = values.get("match")
    return {
        "size": size,
        "people": scenario.people,
        "participants": scenario.participants,
        "offences": generated.rows["offences"],
        "comparison_units": values["cohorts"].candidates,
        "candidates_per_participant": values["cohorts"].candidates / max(values["cohorts"].analysed, 1),
        "stages_seconds": {"generate": generate_seconds, "plain_read": plain_read, **steps},
        "stage_totals_seconds": by_stage,
        "evaluation_seconds": evaluation,
        "evaluation_with_checks_seconds": evaluation + by_stage.get("checks", 0.0),
        "load_vs_plain_read": by_stage["load"] / plain_read,
        "offence_rows_per_second_load": generated.rows["offences"] / by_stage["load"],
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "matched": match.counts.matched if match else 0,
        "max_abs_smd_after": match.balance.max_abs_smd_after if match else None,
    }


#: Entries kept per step in the profile (by time spent in the function itself).
PROFILE_TOP = 8


def _where(key: tuple) -> str:
    """A profile entry's function, its path shortened to the package."""
    path, line, name = key
    for marker in ("site-packages/", "/work/main/", str(Path(__file__).resolve().parents[1]) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path}:{line})" if path != "~" else name


def profile_child(size: float, workdir: Path, seed: int) -> dict:
    """One more run at ``size`` under cProfile, step by step, with every query of sql/
    timed (evaluation.db.queries.on_query): each step's top entries by time spent in the
    function itself, and the slowest queries. Profiling slows Python code, so these times
    are for finding the cost, not for the targets."""
    import cProfile
    import pstats

    from evaluation.db import queries
    from evaluation.pipeline.runner import direct, run_steps
    from evaluation.settings.model import StudySettings
    from synthetic_data import NATIONAL, generate

    scenario = replace(NATIONAL, people=int(FULL_PEOPLE * size), participants=int(FULL_PARTICIPANTS * size))
    data = workdir / "data"
    generate(scenario, data, seed=seed)
    settings = StudySettings(data_dir=data, out_dir=workdir / "out", name=f"national x{size}", bootstrap_resamples=500,
                             work_dir=workdir / "work")
    query_seconds: dict[str, float] = {}
    queries.on_query = lambda name, seconds: query_seconds.__setitem__(name, query_seconds.get(name, 0.0) + seconds)
    steps = []

    def call(step, settings, inputs):
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        try:
            return direct(step, settings, inputs)
        finally:
            profiler.disable()
            seconds = time.perf_counter() - start
            stats = pstats.Stats(profiler).stats
            top = sorted(stats.items(), key=lambda kv: -kv[1][2])[:PROFILE_TOP]
            steps.append({"step": step.key, "seconds": round(seconds, 3),
                          "top_by_own_time": [{"function": _where(key), "calls": calls, "own_seconds": round(own, 3),
                                               "cumulative_seconds": round(cumulative, 3)}
                                              for key, (_, calls, own, cumulative, _) in top]})

    try:
        run_steps(settings, call=call)
    finally:
        queries.on_query = None
    slowest = sorted(query_seconds.items(), key=lambda kv: -kv[1])[:15]
    return {"size": size, "steps": steps,
            "slowest_queries": [{"query": f"sql/{name}.sql", "seconds": round(s, 3)} for name, s in slowest],
            "note": "one run under cProfile (which slows Python code); every query of sql/ runs through "
                    "run_sql, so the load's queries are in the list"}


#: Treated x controls for the side-by-side match with psmpy (it grows with their product).
PEER_SIZES = ((200, 5_000), (500, 20_000), (1_000, 50_000), (2_000, 100_000))
PEER_TIME_LIMIT = 120.0


def peer_comparison(progress=print) -> dict:
    """The same 1:1 caliper (0.2 SD of the logit) match without replacement, by this
    project's matcher and by psmpy (a benchmark-only extra: requirements-bench.lock),
    on the same synthetic data, at sizes where psmpy finishes in reasonable time."""
    try:
        import pandas as pd
        from psmpy import PsmPy
    except ImportError:
        return {"package": "psmpy", "installed": False,
                "note": "pip install -r requirements-bench.lock (make bench does) to compare"}
    import numpy as np
    import polars as pl

    from evaluation.match.matcher import PropensityMatcher

    rows = []
    for n_t, n_c in PEER_SIZES:
        rng = np.random.default_rng(n_t)
        df = pd.DataFrame({
            "id": np.arange(n_t + n_c),
            "treat": np.r_[np.ones(n_t), np.zeros(n_c)].astype(int),
            "x1": np.r_[rng.normal(0.5, 1, n_t), rng.normal(0, 1, n_c)],
            "x2": np.r_[rng.binomial(1, 0.6, n_t), rng.binomial(1, 0.4, n_c)].astype(float),
        })
        t = time.perf_counter()
        ours = PropensityMatcher(caliper=0.2).fit(pl.from_pandas(df), treatment="treat", covariates=["x1", "x2"])
        ours_s = time.perf_counter() - t
        t = time.perf_counter()
        psm = PsmPy(df, treatment="treat", indx="id", exclude=[])
        psm.logistic_ps(balance=False)
        psm.kdtree_matched(matcher="propensity_logit", replacement=False, caliper=0.2, drop_unmatched=True)
        peer_s = time.perf_counter() - t
        rows.append({"treated": n_t, "controls": n_c, "reoffend_seconds": ours_s, "psmpy_seconds": peer_s,
                     "speed_ratio": peer_s / ours_s, "reoffend_matched": ours.counts_.matched})
        progress(f"peer {n_t:,} x {n_c:,}: reoffend {ours_s:.2f}s, psmpy {peer_s:.1f}s ({peer_s / ours_s:.0f}x)")
        if peer_s > PEER_TIME_LIMIT:
            break
    return {"package": "psmpy", "installed": True, "version": _version("psmpy"), "sizes": rows}


def _safely(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # a side measurement must not lose the main results
        return {"error": f"{exc.__class__.__name__}: {exc}"}


def _version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict:
    mem = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gb": round(int(mem) / 1024**2, 1),
            "python": platform.python_version(), "system": platform.platform()}


def _median_run(runs: list[dict]) -> dict:
    out = dict(runs[0])
    for key in ("stages_seconds", "stage_totals_seconds"):
        out[key] = {k: statistics.median(r[key][k] for r in runs) for k in runs[0][key]}
    for key in ("evaluation_seconds", "evaluation_with_checks_seconds", "load_vs_plain_read",
                "offence_rows_per_second_load", "peak_rss_gb"):
        out[key] = statistics.median(r[key] for r in runs)
    out["repeats"] = len(runs)
    out["evaluation_seconds_each"] = [round(r["evaluation_seconds"], 2) for r in runs]
    return out


def run(sizes: list[float], repeats: int, out_path: Path, seed: int, progress=print,
        time_prefect: bool = True, peers: bool = True, profile_size: float | None = None,
        library_counts: tuple[int, ...] = (200, 1000, 2000),
        linkage_cases: tuple[tuple[int, int], ...] = ((2_000_000, 200), (2_000_000, 600), (2_000_000, 5_000)),
        batch_requests: tuple[int, int] | None = (20, 3)) -> dict:
    results = []
    for size in sizes:
        runs = []
        for i in range(repeats):
            with tempfile.TemporaryDirectory(prefix="reoffend-bench-") as tmp:
                proc = subprocess.run(
                    [sys.executable, "-m", "benchmarks.bench", "--child", str(size), "--workdir", tmp, "--seed", str(seed)],
                    capture_output=True, text=True, timeout=3600,
                )
            if proc.returncode != 0:
                raise RuntimeError(f"benchmark at size {size} failed:\n{proc.stderr[-3000:]}")
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            r = runs[-1]
            progress(f"x{size} run {i + 1}/{repeats}: evaluation {r['evaluation_seconds']:.1f}s, "
                     f"peak {r['peak_rss_gb']:.2f} GB, " + ", ".join(f"{k} {v:.1f}s" for k, v in r["stages_seconds"].items()))
        results.append(_median_run(runs))
    growth = []
    for a, b in zip(results, results[1:]):
        growth.append({
            "from_size": a["size"], "to_size": b["size"],
            "people_factor": b["people"] / a["people"],
            "evaluation_time_factor": b["evaluation_seconds"] / a["evaluation_seconds"],
        })
    full = next((r for r in results if r["size"] == 1.0), None)
    checks = {}
    if full:
        checks = {
            "evaluation_with_checks_at_most_25s": full["evaluation_with_checks_seconds"]
            <= TARGETS["evaluation_with_checks_seconds"],
            "peak_rss_under_4gb": full["peak_rss_gb"] < TARGETS["peak_rss_gb"],
            "load_within_1.3x_plain_read": full["load_vs_plain_read"] <= TARGETS["load_vs_plain_read"],
            "at_least_50_candidates_per_participant": full["candidates_per_participant"]
            >= TARGETS["candidates_per_participant"],
        }
    profile = None
    if profile_size is not None:
        with tempfile.TemporaryDirectory(prefix="reoffend-bench-") as tmp:
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench", "--profile-child", str(profile_size), "--workdir", tmp,
                 "--seed", str(seed)], capture_output=True, text=True, timeout=3600)
        profile = (json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0
                   else {"error": proc.stderr[-2000:]})
        progress(f"profile at x{profile_size}: done")
    from benchmarks import library_scale

    library = _safely(library_scale.measure, library_counts, progress)
    from benchmarks import linkage_scale

    linkage = _safely(linkage_scale.measure, linkage_cases, 8, progress)
    from benchmarks import batch_scale

    batch = _safely(batch_scale.measure, *batch_requests, seed, progress) if batch_requests and time_prefect else None
    peer_result = _safely(peer_comparison, progress) if time_prefect and peers else None
    if time_prefect and not peers and out_path.exists():  # keep the earlier run's, saying so
        earlier = json.loads(out_path.read_text()).get("peers")
        if earlier:
            peer_result = {**earlier, "note": "kept from an earlier run (this one ran with --no-peers)"}
    report = {
        "machine": machine(),
        "prefect_startup_seconds": _safely(prefect_startup.measure) if time_prefect else None,
        "peers": peer_result,
        "targets": TARGETS,
        "sizes": results,
        "growth": growth,
        "checks_at_1x": checks,
        "profile": profile,
        "library": library,
        "linkage": linkage,
        "batch": batch,
        "note": "medians over repeats; evaluation = load + cohorts + before/after + match + estimate + reports, "
                "excluding data generation and Prefect start-up; evaluation_with_checks (the 25 s target) adds the "
                "robustness and value-for-money checks (sensitivity re-matching, falsification, subgroups, costs)",
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="reoffend bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="0.25,0.5,1", help="fractions of the national scenario (default 0.25,0.5,1)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size; the median is reported (default 3)")
    parser.add_argument("--out", type=Path, default=Path("bench.json"), help="where to write bench.json")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the profiled run at the largest size (its top entries go to bench.json)")
    parser.add_argument("--no-peers", action="store_true",
                        help="skip the side-by-side match with psmpy (about 13 minutes at its largest size)")
    parser.add_argument("--only-batch", action="store_true",
                        help="measure only reoffend batch (20 requests against the 1x national extract, against "
                             "standalone evaluations), into --out's 'batch' entry (the rest of the file is kept)")
    parser.add_argument("--only-linkage", action="store_true",
                        help="measure only reoffend link (lists of 200, 600 and 5,000 against 2,000,000 people), into "
                             "--out's 'linkage' entry (the rest of the file is kept)")
    parser.add_argument("--only-library", action="store_true",
                        help="measure only the evidence library at 200, 1,000 and 2,000 evaluations, into --out's "
                             "'library' entry (the rest of the file is kept)")
    args = parser.parse_args(argv)
    if args.only_batch:
        from benchmarks import batch_scale

        report = json.loads(args.out.read_text()) if args.out.exists() else {}
        report["batch"] = batch_scale.measure(progress=lambda m: print(m, file=sys.stderr, flush=True))
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        return 0
    if args.only_linkage:
        from benchmarks import linkage_scale

        report = json.loads(args.out.read_text()) if args.out.exists() else {}
        report["linkage"] = linkage_scale.measure(progress=lambda m: print(m, file=sys.stderr, flush=True))
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        return 0 if report["linkage"]["met"] else 1
    if args.only_library:
        from benchmarks import library_scale

        report = json.loads(args.out.read_text()) if args.out.exists() else {}
        report["library"] = library_scale.measure(progress=lambda m: print(m, file=sys.stderr, flush=True))
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        return 0 if report["library"]["met"] else 1
    if args.child is not None:
        print(json.dumps(child(args.child, args.workdir, args.seed)))
        return 0
    if args.profile_child is not None:
        print(json.dumps(profile_child(args.profile_child, args.workdir, args.seed)))
        return 0
    sizes = [float(s) for s in args.sizes.split(",")]
    report = run(sizes, args.repeats, args.out, args.seed, progress=lambda m: print(m, file=sys.stderr, flush=True),
                 peers=not args.no_peers, profile_size=None if args.no_profile else max(sizes))
    for r in report["sizes"]:
        print(f"x{r['size']:<5} {r['people']:>10,} people {r['offences']:>11,} offences: evaluation "
              f"{r['evaluation_seconds']:6.1f}s (load {r['stage_totals_seconds']['load']:.1f}s = "
              f"{r['load_vs_plain_read']:.2f}x plain read; cohorts {r['stage_totals_seconds']['cohorts']:.1f}s; "
              f"match {r['stage_totals_seconds']['match']:.1f}s), "
              f"with checks {r['evaluation_with_checks_seconds']:.1f}s, peak {r['peak_rss_gb']:.2f} GB")
    for g in report["growth"]:
        print(f"x{g['from_size']} -> x{g['to_size']}: people x{g['people_factor']:.1f}, time x{g['evaluation_time_factor']:.2f}")
    startup = report["prefect_startup_seconds"] or {}
    for key, seconds in startup.items():
        shown = f"{seconds:.1f}s" if isinstance(seconds, float) else seconds
        print(f"Prefect start-up, {key.replace('_', ' ')}: {shown}")
    peers = report.get("peers") or {}
    for row in peers.get("sizes", []):
        print(f"1:1 caliper match, {row['treated']:,} x {row['controls']:,}: reoffend {row['reoffend_seconds']:.2f}s, "
              f"psmpy {row['psmpy_seconds']:.1f}s: {row['speed_ratio']:.0f}x faster")
    if peers and not peers.get("installed"):
        print(f"peer comparison skipped: {peers['note']}")
    if report["checks_at_1x"]:
        print("targets at 1x: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in report["checks_at_1x"].items()))
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
