"""Stored results of one evaluation, which the report and disclosure tests render and
attack without running the pipeline (issue 36, finding 7: each report test file built its
own evaluation, 67-82 s a file).

The evaluation is the Southampton scenario (its default seed) with the settings below.
``tests/e2e/test_stored_results.py`` runs it and fails when the stored files are not what
the pipeline makes today; refresh them with ``.venv/bin/python -m tests.report.stored``.
They are aggregates of synthetic data (no person-level rows), like the demo's outputs. The
manifest's folders, times and code version are placeholders (its package versions are
the lock's when the files were made).
"""

from __future__ import annotations

import copy
import json
import tempfile
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "data" / "stored"
RESULTS = HERE / "southampton.results.json"
MANIFEST = HERE / "southampton.manifest.json"

#: The study's settings beyond its folders: no caliper, so that every participant is
#: matched and the partner view shows the comparison.
SETTINGS = {"name": "southampton_demo", "bootstrap_resamples": 300, "programme_cost_per_participant": 940,
            "matching": {"caliper": None}}

#: What the stored manifest says in place of this machine's folders and times.
PLACEHOLDERS = {"data": "/data/southampton", "out": "/out/southampton", "time": "2026-01-01T00:00:00+00:00"}


def study_settings(data_dir: Path, out_dir: Path):
    from evaluation.settings.model import StudySettings

    return StudySettings(data_dir=data_dir, out_dir=out_dir, **SETTINGS)


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def results() -> dict:
    """The stored analyst results (a fresh copy each call: tests may change it)."""
    return json.loads(_read(RESULTS))


def manifest() -> dict:
    return json.loads(_read(MANIFEST))


def placeholder_manifest(made: dict, data_dir: Path, out_dir: Path) -> dict:
    """A run's manifest with its folders, times and code version replaced by the placeholders."""
    text = json.dumps(made)
    for real, shown in ((str(data_dir.resolve()), PLACEHOLDERS["data"]), (str(out_dir.resolve()), PLACEHOLDERS["out"])):
        text = text.replace(json.dumps(real)[1:-1], shown)
    out = json.loads(text)
    out["started"] = out["finished"] = PLACEHOLDERS["time"]
    out["code_version"] = "stored"
    return out


def evaluate(work: Path) -> tuple[dict, dict]:
    """Generate the data and run the evaluation in ``work``: (results, placeholder manifest)."""
    from evaluation.pipeline.runner import run_evaluation
    from synthetic_data import SOUTHAMPTON, generate

    data, out = work / "data", work / "out"
    generate(SOUTHAMPTON, data)
    made = run_evaluation(study_settings(data, out))
    made_manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return copy.deepcopy(made), placeholder_manifest(made_manifest, data, out)


def refresh() -> None:
    with tempfile.TemporaryDirectory(prefix="reoffend-stored-") as tmp:
        made, made_manifest = evaluate(Path(tmp))
    RESULTS.write_text(json.dumps(made, indent=2) + "\n", encoding="utf-8")
    MANIFEST.write_text(json.dumps(made_manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS} and {MANIFEST}")


if __name__ == "__main__":
    refresh()
