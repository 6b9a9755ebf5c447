"""Re-running a past evaluation from its manifest and comparing the results."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from evaluation.errors import SettingsError
from evaluation.provenance.manifest import sha256_file
from evaluation.pipeline.runner import run_evaluation
from evaluation.settings.model import StudySettings


@dataclass
class ReproduceReport:
    identical: bool
    changed_inputs: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.changed_inputs:
            return "inputs changed since the run, not re-run:\n" + "\n".join(f"  {c}" for c in self.changed_inputs)
        if self.identical:
            return "reproduced: results.json is identical"
        return "results differ:\n" + "\n".join(f"  {d}" for d in self.differences[:50]) + (
            f"\n  ... and {len(self.differences) - 50} more" if len(self.differences) > 50 else "")


def diff_json(a, b, path: str = "") -> list[str]:
    """Paths at which two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{path}/{key}: only in {'the new run' if key in b else 'the recorded run'}")
            else:
                out += diff_json(a[key], b[key], f"{path}/{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff_json(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: recorded {json.dumps(a)[:80]}, now {json.dumps(b)[:80]}"]


def settings_from_manifest(record: dict, out_dir: Path) -> StudySettings:
    known = {f.name for f in fields(StudySettings)}
    values = {k: v for k, v in record.items() if k in known}
    for key in ("programmes", "covariates", "exact", "mahalanobis"):
        values[key] = tuple(values.get(key) or ())
    if values.get("cutoff"):
        import datetime as dt

        values["cutoff"] = dt.date.fromisoformat(values["cutoff"])
    values["data_dir"] = Path(values["data_dir"])
    values["out_dir"] = out_dir
    values["work_dir"] = None
    return StudySettings(**values)


def reproduce(manifest_path: str | Path, progress: Callable[[str], None] | None = None) -> ReproduceReport:
    manifest_path = Path(manifest_path)
    try:
        manifest = json.loads(manifest_path.read_text())
        recorded = json.loads((manifest_path.parent / "results.json").read_text())
    except FileNotFoundError as exc:
        raise SettingsError(f"{exc.filename}: not found") from None
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{manifest_path}: not valid JSON ({exc})") from None
    data_dir = Path(manifest["data_dir"])
    changed = []
    for entry in manifest["inputs"]:
        path = data_dir / entry["file"]
        if not path.is_file():
            changed.append(f"{path}: missing")
        elif sha256_file(path) != entry["sha256"]:
            changed.append(f"{path}: SHA-256 differs from the manifest")
    recorded_files = {e["file"] for e in manifest["inputs"]}
    for path in sorted(p for p in data_dir.iterdir() if p.suffix in (".csv", ".parquet")) if data_dir.is_dir() else []:
        if path.name not in recorded_files and path.stem in {"people", "offences", "participants", "custody"}:
            changed.append(f"{path}: not in the manifest")
    if changed:
        return ReproduceReport(False, changed_inputs=changed)
    with tempfile.TemporaryDirectory(prefix="reoffend-reproduce-") as tmp:
        settings = settings_from_manifest(manifest["settings"], Path(tmp) / "out")
        run_evaluation(settings, progress=progress)
        fresh = json.loads((Path(tmp) / "out" / "results.json").read_text())
    differences = diff_json(recorded, fresh)
    return ReproduceReport(not differences, differences=differences)
