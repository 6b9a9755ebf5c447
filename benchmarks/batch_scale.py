"""reoffend batch at national scale (issue 38): 20 requests of about 500 participants against
the 2,000,000-person national extract, on this machine's two cores, against 20 standalone
evaluations one after another (a measured sample of 3, extrapolated). Target: the batch at
least 3 times faster, peak memory under 4 GB."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"speedup": 3.0, "peak_rss_gb": 4.0}
REQUESTS, SAMPLE = 20, 3


def _prepare(root: Path, requests: int, seed: int) -> tuple[Path, Path]:
    import polars as pl

    from synthetic_data import NATIONAL, generate

    made = generate(NATIONAL, root / "made", seed=seed)
    national = root / "national"
    national.mkdir()
    for name in ("people", "offences", "custody"):
        source = made.files.get(name)
        if source is not None:
            shutil.move(source, national / source.name)
    participants = pl.read_parquet(made.files["participants"]) if made.files["participants"].suffix == ".parquet" \
        else pl.read_csv(made.files["participants"])
    people = participants["person_id"].unique().sort().sample(fraction=1.0, shuffle=True, seed=seed)
    group = {pid: i % requests for i, pid in enumerate(people.to_list())}
    folder = root / "requests"
    for i in range(requests):
        own = participants.filter(pl.col("person_id").replace_strict(group, default=-1) == i)
        (folder / f"r{i:02d}").mkdir(parents=True)
        own.write_csv(folder / f"r{i:02d}" / "participants.csv")
    return national, folder


def _tree_rss_gb(proc) -> float:
    """The resident memory of a process and all its descendants, in GB."""
    import psutil

    try:
        root = psutil.Process(proc.pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 1024 ** 3


def measure(requests: int = REQUESTS, sample: int = SAMPLE, seed: int = 1, progress=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="reoffend-bench-batch-") as tmp:
        root = Path(tmp)
        national, folder = _prepare(root, requests, seed)
        progress(f"batch bench: {requests} requests prepared")
        alone = []
        for name in sorted(p.name for p in folder.iterdir())[:sample]:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "cli.main", "evaluate", "--data", str(national),
                                   "--participants", str(folder / name / "participants.csv"),
                                   "--out", str(root / "alone" / name), "--name", name, "--quiet"],
                                  capture_output=True, text=True, timeout=3600,
                                  env={**os.environ, "PREFECT_API_URL": os.environ.get("PREFECT_API_URL", "")})
            if proc.returncode != 0:
                raise RuntimeError(f"standalone {name} failed:\n{proc.stderr[-2000:]}")
            alone.append(time.perf_counter() - start)
            progress(f"standalone {name}: {alone[-1]:.1f} s")
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "batch", str(folder), "--data", str(national),
                                 "--out", str(root / "out"), "--workers", "2", "--quiet"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _tree_rss_gb(proc))
            time.sleep(0.5)
        batch_seconds = time.perf_counter() - start
        _, err = proc.communicate()
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"batch failed:\n{err[-2000:]}")
        record = json.loads((root / "out" / "batch.json").read_text())
    standalone_each = sum(alone) / len(alone)
    return {
        "requests": requests, "done": sum(r["status"] == "done" for r in record["requests"]),
        "batch_seconds": round(batch_seconds, 1),
        "standalone_seconds_each": [round(s, 1) for s in alone],
        "standalone_seconds_for_all": round(standalone_each * requests, 1),
        "speedup": round(standalone_each * requests / batch_seconds, 2),
        "peak_rss_gb": round(peak, 2),
        "targets": TARGETS,
        "note": "both with Prefect's start-up (a temporary server per standalone command, one for the batch); "
                "peak memory is the batch command's and all its workers' resident memory together, sampled "
                "every 0.5 s",
    }
