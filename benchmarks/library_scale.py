"""The evidence library at scale (issue 35): ``library add`` of many partner outputs in one
call and ``library build`` of the result, timed, with the site's bytes per evaluation.

The outputs are copies of one real partner evaluation (a small synthetic one), each with
its own study name and one of 97 councils, so every copy passes the library's checks and
is its own evaluation. Target: 2,000 added and built within 60 s in total on this machine,
and bytes per evaluation that do not grow with the number of evaluations."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

TARGET_SECONDS = 60.0


def _partner_output(workdir: Path) -> Path:
    from evaluation.pipeline.runner import run_evaluation
    from evaluation.settings.model import StudySettings
    from synthetic_data import SOUTHAMPTON, generate

    data = workdir / "data"
    generate(replace(SOUTHAMPTON, people=6000, participants=200), data, seed=3)
    out = workdir / "partner"
    run_evaluation(StudySettings(data_dir=data, out_dir=out, audience="partner", bootstrap_resamples=200,
                                 robustness=False, name="seed", council="Council 0", programme_type="employment"))
    return out


def measure(counts=(200, 1000, 2000), progress=print) -> dict:
    from evaluation.library.site import build_site
    from evaluation.library.store import add_outputs

    rows = []
    with tempfile.TemporaryDirectory(prefix="reoffend-bench-library-") as tmp:
        source = _partner_output(Path(tmp))
        results = json.loads((source / "results.json").read_text())
        manifest = (source / "manifest.json").read_text()
        for n in counts:
            base = Path(tmp) / f"n{n}"
            folders = []
            for i in range(n):
                folder = base / f"e{i}"
                folder.mkdir(parents=True)
                copy = {**results, "study": {**results["study"], "name": f"study{i}", "council": f"Council {i % 97}"}}
                (folder / "results.json").write_text(json.dumps(copy))
                (folder / "manifest.json").write_text(manifest)
                folders.append(folder)
            start = time.perf_counter()
            add_outputs(base / "library.duckdb", folders)
            added = time.perf_counter() - start
            start = time.perf_counter()
            site, _ = build_site(base / "library.duckdb", base / "site")
            built = time.perf_counter() - start
            size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
            rows.append({"evaluations": n, "add_seconds": round(added, 2), "build_seconds": round(built, 2),
                         "total_seconds": round(added + built, 2), "site_bytes": size,
                         "site_bytes_per_evaluation": round(size / n),
                         "index_bytes_per_evaluation": round((site / "index.html").stat().st_size / n)})
            progress(f"library of {n:,}: add {added:.1f}s, build {built:.1f}s, site {size / n / 1000:.1f} KB per evaluation")
    largest = rows[-1]
    return {"rows": rows, "target_seconds_for_2000": TARGET_SECONDS,
            "met": largest["evaluations"] < 2000 or largest["total_seconds"] <= TARGET_SECONDS}
