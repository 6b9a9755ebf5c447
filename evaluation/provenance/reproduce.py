"""Re-running a past evaluation from its manifest and comparing the results."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from evaluation.errors import SettingsError
from evaluation.load import contract
from evaluation.pipeline.runner import run_evaluation
from evaluation.provenance.manifest import sha256_file
from evaluation.settings.model import StudySettings


@dataclass
class ReproduceReport:
    identical: bool
    changed_inputs: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    #: settings the manifest did not record, re-run at the rule its run used (OLDER_RULES)
    older_rules: dict = field(default_factory=dict)

    def summary(self) -> str:
        if self.changed_inputs:
            return "inputs changed since the run, not re-run:\n" + "\n".join(f"  {c}" for c in self.changed_inputs)
        rules = ("" if not self.older_rules else "\n(the manifest predates " + ", ".join(self.older_rules)
                 + "; re-run with the rule of its time: " + ", ".join(f"{k} = {v!r}" for k, v in self.older_rules.items())
                 + ")")
        if self.identical:
            return "reproduced: results.json is identical" + rules
        return "results differ:\n" + "\n".join(f"  {d}" for d in self.differences[:50]) + (
            f"\n  ... and {len(self.differences) - 50} more" if len(self.differences) > 50 else "") + rules


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


def settings_from_manifest(record: dict, out_dir: Path, data_dir: Path) -> StudySettings:
    """The recorded settings (nested, or flat as older manifests hold them), reading the
    inputs from ``data_dir`` and writing to ``out_dir``."""
    try:
        recorded = StudySettings.model_validate(record)
    except ValidationError as exc:
        raise SettingsError(f"the manifest's settings are not valid ({exc.errors()[0]['msg']})") from None
    # a re-run writes only its own outputs: never the library or site a manifest names
    return recorded.updated(data_dir=data_dir, out_dir=out_dir, work_dir=None, keep_work=False, library=None,
                            library_site=None, **older_rules(record))


#: Settings added since, each with the value that is the rule runs recorded before it used:
#: k:1 matching filled each participant's k in turn before it filled in rounds (MatchIt's
#: order); without a referral date a participant's events before the start were comparison
#: units before the referral window (issue 39), which a window of 0 days keeps.
OLDER_RULES = {"fill": ("matching", "participant"), "referral_window_days": ("windows", 0)}


def older_rules(record: dict) -> dict:
    """The settings an older manifest does not record, at the values its run used."""
    return {key: value for key, (section, value) in OLDER_RULES.items()
            if key not in record and key not in (record.get(section) or {})}


def reproduce(manifest_path: str | Path, *, data_dir: str | Path | None = None,
              participants: str | Path | None = None, out_dir: str | Path | None = None) -> ReproduceReport:
    """Check the inputs' SHA-256 against the manifest, then re-run the evaluation into a
    fresh folder and compare its results.json with the recorded one (beside the manifest).

    ``data_dir`` is where the input files are now (default: the folder the run recorded),
    so a copy of the data and outputs on another machine can be checked; ``participants``,
    likewise, is where the participants file is now when the run read it from outside the
    data folder (``--participants``; its linkage.json beside it), by default where the run
    read it. ``out_dir`` keeps the re-run's outputs (a new folder; by default they go to a
    temporary one)."""
    manifest_path = Path(manifest_path)
    try:
        manifest = json.loads(manifest_path.read_text())
        recorded = json.loads((manifest_path.parent / "results.json").read_text())
    except FileNotFoundError as exc:
        raise SettingsError(f"{exc.filename}: not found") from None
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{manifest_path}: not valid JSON ({exc})") from None
    if "sha256" not in (manifest.get("inputs") or [{}])[0]:
        raise SettingsError(f"{manifest_path}: a partner manifest holds no input hashes; reproduce from the "
                            "analyst run's manifest.json")
    if data_dir is None and not isinstance(manifest.get("data_dir"), str):
        raise SettingsError(f"{manifest_path}: the manifest records no data folder; give it with --data DIR")
    data_dir = Path(data_dir) if data_dir is not None else Path(manifest["data_dir"])
    if not data_dir.is_dir():
        raise SettingsError(f"{data_dir}: data folder not found; give the folder the inputs are in now with --data DIR")
    names = [entry.get("file") if isinstance(entry, dict) else None for entry in manifest["inputs"]]
    outside = [n for n in names if not isinstance(n, str) or Path(n).name != n or n in (".", "..")]
    if outside:
        raise SettingsError(f"{manifest_path}: input {str(outside[0])[:80]!r} is not a file name in the data folder; "
                            "reproduce reads only the data folder's own files")
    changed = []
    recorded_participants = (manifest.get("settings") or {}).get("data", {}).get("participants")
    if participants is not None:
        participants = Path(participants).expanduser().resolve()
    elif isinstance(recorded_participants, str):
        participants = Path(recorded_participants)
    apart = None if participants is None else participants.parent
    for entry in manifest["inputs"]:  # the participants (and linkage.json) given apart: where they are now
        if apart is not None and entry.get("table") == "participants":
            path = participants
        elif apart is not None and entry.get("table") == "linkage":
            path = apart / entry["file"]
        else:
            path = data_dir / entry["file"]
        if not path.is_file():
            hint = "; give where it is now with --participants FILE" if apart is not None and path.parent == apart else ""
            changed.append(f"{path}: missing{hint}")
        elif sha256_file(path) != entry["sha256"]:
            changed.append(f"{path}: SHA-256 differs from the manifest")
    recorded_files = {e["file"] for e in manifest["inputs"]}
    for path in sorted(p for p in data_dir.iterdir() if p.suffix in contract.FILE_SUFFIXES):
        if path.name not in recorded_files and path.stem in contract.TABLES_BY_NAME and not (
                apart is not None and path.stem == "participants"):
            changed.append(f"{path}: not in the manifest")
    if changed:
        return ReproduceReport(False, changed_inputs=changed)
    with tempfile.TemporaryDirectory(prefix="reoffend-reproduce-") as tmp:
        out = Path(out_dir) if out_dir is not None else Path(tmp) / "out"
        settings = settings_from_manifest(manifest["settings"], out, data_dir)
        if participants is not None:
            settings = settings.updated(participants_file=participants)
        run_evaluation(settings)
        fresh = json.loads((out / "results.json").read_text())
    for key, value in older_rules(manifest["settings"]).items():  # results.json of then did not hold them either
        if key not in (recorded.get("study") or {}) and (fresh.get("study") or {}).get(key) == value:
            del fresh["study"][key]
    differences = diff_json(recorded, fresh)
    return ReproduceReport(not differences, differences=differences, older_rules=older_rules(manifest["settings"]))
