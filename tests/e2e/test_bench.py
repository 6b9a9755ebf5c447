"""A quick smoke run of the benchmark at tiny sizes, so it cannot rot."""

from __future__ import annotations

import json

from benchmarks import bench
from evaluation.pipeline.steps import STEPS, has_library


def test_benchmark_smoke(tmp_path):
    report = bench.run([0.002, 0.004], repeats=1, out_path=tmp_path / "bench.json", seed=3,
                       progress=lambda _m: None, time_prefect=False, profile_size=0.004, library_counts=(10, 20),
                       linkage_cases=((3_000, 100),), batch_requests=None)
    written = json.loads((tmp_path / "bench.json").read_text())
    assert written == json.loads(json.dumps(report))
    small, large = report["sizes"]
    assert (small["people"], large["people"]) == (4000, 8000)
    for size in report["sizes"]:
        # every step is timed, except the library update, which the benchmark's study does not ask for
        assert set(size["stages_seconds"]) == {"generate", "plain_read"} | {s.key for s in STEPS if s.when is not has_library}
        assert set(size["stage_totals_seconds"]) == {step.stage for step in STEPS}
        assert size["evaluation_with_checks_seconds"] > size["evaluation_seconds"]
        assert size["peak_rss_gb"] > 0 and size["offence_rows_per_second_load"] > 0
        assert size["matched"] > 0
    assert report["growth"][0]["people_factor"] == 2.0
    assert report["machine"]["cpus"] >= 1
    # the profiled run: every step, each with its top entries, and the slowest queries of sql/
    profile = report["profile"]
    assert [s["step"] for s in profile["steps"]] == [s.key for s in STEPS if s.when is not has_library]
    assert all(s["top_by_own_time"] and s["top_by_own_time"][0]["own_seconds"] >= 0 for s in profile["steps"])
    assert any(q["query"] == "sql/outcomes/unit_covariates.sql" for q in profile["slowest_queries"])
    assert [row["evaluations"] for row in report["library"]["rows"]] == [10, 20]
    # the linkage measure ran on its small case (the national ones are make bench's), and reconciles
    (link,) = report["linkage"]["runs"]
    assert link["identified_people"] == 3_000 and link["precision"] >= 0.99 and "seconds" in link
    assert report["batch"] is None  # it needs Prefect: make bench's
