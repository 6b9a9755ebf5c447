"""reoffend link at national scale (issue 37): councils' lists of 200, 600 and 5,000
participants against 2,000,000 identified people (the tests take 24,000), generated with
known true links. Records the time, the peak
memory, the measured precision and recall and the model's own estimates of them.
Targets: precision >= 0.99 and recall >= 0.95, estimates within 0.02 of the measured."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"precision": 0.99, "recall": 0.95, "estimate_error": 0.02}


def child(people: int, list_size: int, seed: int, workdir: Path) -> dict:
    import polars as pl

    from evaluation.link.fields import DUPLICATE
    from evaluation.link.linkage import link_list
    from synthetic_data.identities import council_list, identified_people, sample_people

    identified = identified_people(sample_people(people, seed), seed)
    starts = (identified.sample(list_size, seed=seed).select("person_id")
              .with_columns(programme=pl.lit("Mentoring"), start_date=pl.lit("2019-04-01").str.to_date()))
    listed, truth = council_list(identified, starts, seed)
    listed.write_csv(workdir / "list.csv")
    identified.write_csv(workdir / "identified.csv")
    del identified
    start = time.perf_counter()
    result = link_list(workdir / "list.csv", workdir / "identified.csv", workdir / "out", seed=seed)
    seconds = time.perf_counter() - start
    rows = result.decisions.join(truth, on="row", suffix="_true").filter(pl.col("outcome") != DUPLICATE)
    linked = rows.filter(pl.col("outcome") == "linked")
    right = int((linked["person_id"] == linked["person_id_true"]).sum())
    precision, recall = right / linked.height, right / int(rows["person_id_true"].is_not_null().sum())
    return {"identified_people": people, "list_rows": result.rows, "seconds": round(seconds, 1),
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2),
            "precision": round(precision, 4), "recall": round(recall, 4),
            "estimated_precision": round(result.estimated_precision, 4),
            "estimated_recall": round(result.estimated_recall, 4)}


def measure(cases=((2_000_000, 200), (2_000_000, 600), (2_000_000, 5_000)), seed: int = 8, progress=print) -> dict:
    rows = []
    for n, list_size in cases:
        with tempfile.TemporaryDirectory(prefix="reoffend-bench-link-") as tmp:
            proc = subprocess.run([sys.executable, "-m", "benchmarks.linkage_scale", str(n), str(list_size), str(seed),
                                   tmp], capture_output=True, text=True, timeout=3600)
        if proc.returncode != 0:
            raise RuntimeError(f"linkage benchmark at {n:,} people failed:\n{proc.stderr[-3000:]}")
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["met"] = (row["precision"] >= TARGETS["precision"] and row["recall"] >= TARGETS["recall"]
                      and abs(row["estimated_precision"] - row["precision"]) <= TARGETS["estimate_error"]
                      and abs(row["estimated_recall"] - row["recall"]) <= TARGETS["estimate_error"])
        progress(f"link {row['list_rows']:,} rows to {n:,} people: {row['seconds']:.1f}s, peak {row['peak_rss_gb']:.2f} GB, "
                 f"precision {row['precision']:.3f} (estimated {row['estimated_precision']:.3f}), recall "
                 f"{row['recall']:.3f} (estimated {row['estimated_recall']:.3f})")
        rows.append(row)
    return {"targets": TARGETS, "runs": rows, "met": all(r["met"] for r in rows),
            "note": "time of reoffend link alone (reading, splink training and prediction, decisions, writing), "
                    "excluding data generation; peak memory of the whole child process"}


if __name__ == "__main__":
    n, size, seed, work = sys.argv[1:5]
    print(json.dumps(child(int(n), int(size), int(seed), Path(work))))
