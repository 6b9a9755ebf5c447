"""manifest.json: what an evaluation ran on and with, so an evaluator can reproduce it.

The manifest holds what results.json must not: machine paths, times and versions. Input
files are identified by SHA-256, so ``reoffend reproduce`` can tell a changed input.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from evaluation.load import contract
from evaluation.settings.model import StudySettings

PACKAGES = ("reoffend", "duckdb", "polars", "pyarrow", "numpy", "scipy", "statsmodels", "prefect", "splink")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def input_files(data_dir: Path, participants: Path | None = None) -> list[tuple[str, Path]]:
    """(table, file) of every input: the data folder's tables, the participants file where it
    is given apart, and ``linkage.json`` beside the participants (it changes the results)."""
    found = [(t.name, data_dir / f"{t.name}{suffix}") for t in contract.TABLES for suffix in contract.FILE_SUFFIXES
             if not (participants is not None and t.name == "participants") and (data_dir / f"{t.name}{suffix}").is_file()]
    if participants is not None and participants.is_file():
        found.append(("participants", participants))
    beside = participants.parent if participants is not None else data_dir
    if (beside / contract.LINKAGE_FILE).is_file():
        found.append(("linkage", beside / contract.LINKAGE_FILE))
    return found


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _code_version() -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        return subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def build_manifest(settings: StudySettings, results: dict, *, started: str) -> dict:
    tables = results["load"]["tables"]
    inputs = []
    for table, path in input_files(Path(settings.data_dir), settings.data.participants):
        inputs.append({
            "file": path.name,
            "table": table,
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
            "rows_read": tables.get(table, {}).get("read"),
            "rows_loaded": tables.get(table, {}).get("loaded"),
        })
    return {
        "manifest_version": 1,
        "data_dir": str(Path(settings.data_dir).resolve()),
        "inputs": inputs,
        "settings": settings.record(),
        "seed": settings.seed,
        "versions": _versions(),
        "code_version": _code_version(),
        "started": started,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
