"""Study settings: what to evaluate and how, from a TOML study file or the command line."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from evaluation.errors import SettingsError


@dataclass(frozen=True)
class StudySettings:
    """Everything that determines an evaluation's results.

    Parameters
    ----------
    data_dir : folder holding the input tables (see docs/data-contract.md).
    out_dir : folder the evaluation writes its outputs into.
    programmes : programmes to evaluate, pooled; empty means every programme in the data.
    before_days, after_days : window lengths in days (half-open windows around the index date).
    waiting_days : days after a window's end within which an offence must be proven to count
        (the Ministry of Justice's six months: 182).
    cutoff : the data's cut-off date; None takes the latest outcome_date.
    seed : seed for every random step (bootstrap, matching ties), so runs are reproducible.
    name : a short name for the study, used in reports.
    work_dir : folder for the working database (person-level data). None puts it beside
        out_dir as ``.<out_dir name>.work``, never inside out_dir.
    """

    data_dir: Path
    out_dir: Path
    programmes: tuple[str, ...] = ()
    before_days: int = 365
    after_days: int = 365
    waiting_days: int = 182
    cutoff: dt.date | None = None
    seed: int = 20130401
    name: str = "evaluation"
    work_dir: Path | None = None
    bootstrap_resamples: int = 2000

    def __post_init__(self) -> None:
        for name in ("before_days", "after_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 1 <= value <= 3650:
                raise SettingsError(f"{name} must be a whole number of days from 1 to 3650, not {value!r}")
        if not isinstance(self.waiting_days, int) or not 0 <= self.waiting_days <= 3650:
            raise SettingsError(f"waiting_days must be a whole number of days from 0 to 3650, not {self.waiting_days!r}")
        if not isinstance(self.seed, int):
            raise SettingsError(f"seed must be a whole number, not {self.seed!r}")
        if not isinstance(self.bootstrap_resamples, int) or self.bootstrap_resamples < 100:
            raise SettingsError("bootstrap_resamples must be a whole number of at least 100")
        if any(not isinstance(p, str) or not p.strip() for p in self.programmes):
            raise SettingsError("programmes must be non-empty names")

    @property
    def work_path(self) -> Path:
        if self.work_dir is not None:
            return Path(self.work_dir)
        out = Path(self.out_dir)
        return out.parent / f".{out.name}.work"

    @property
    def db_path(self) -> Path:
        return self.work_path / "evaluation.duckdb"

    def to_dict(self) -> dict[str, Any]:
        """The settings that determine results (no machine paths), for results.json."""
        out = asdict(self)
        for key in ("data_dir", "out_dir", "work_dir"):
            out.pop(key)
        out["programmes"] = list(self.programmes)
        out["cutoff"] = self.cutoff.isoformat() if self.cutoff else None
        return out


_KNOWN = {f.name for f in fields(StudySettings)}


def load_study(path: str | Path, overrides: Mapping[str, Any] | None = None) -> StudySettings:
    """Read a TOML study file; relative paths in it are relative to the file.

    ``overrides`` (e.g. from the command line) replace the file's values; None values are ignored.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: study file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    study = raw.get("study", raw)
    windows = study.pop("windows", {}) if isinstance(study.get("windows"), dict) else {}
    values: dict[str, Any] = {**study, **windows}
    unknown = sorted(set(values) - _KNOWN)
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s): {', '.join(unknown)}")
    for key in ("data_dir", "out_dir", "work_dir"):
        if values.get(key) is not None:
            values[key] = (path.parent / values[key]).resolve()
    if "programmes" in values:
        values["programmes"] = tuple(values["programmes"])
    if isinstance(values.get("cutoff"), str):
        try:
            values["cutoff"] = dt.date.fromisoformat(values["cutoff"])
        except ValueError:
            raise SettingsError(f"{path}: cutoff {values['cutoff']!r} is not a YYYY-MM-DD date") from None
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    for required in ("data_dir", "out_dir"):
        if values.get(required) is None:
            raise SettingsError(f"{path}: {required} is required")
    values["data_dir"], values["out_dir"] = Path(values["data_dir"]), Path(values["out_dir"])
    return StudySettings(**values)

