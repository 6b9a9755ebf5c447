"""Study settings: what to evaluate and how, from a TOML study file or the command line."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from evaluation.load.contract import CATEGORIES
from evaluation.cohorts.covariates import ALL_COVARIATES, DEFAULT_COVARIATES
from evaluation.errors import SettingsError
from evaluation.files.workspace import work_folder


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
    comparison_pool : "risk_set" (anyone not yet started at the candidate's index date) or
        "never_participated".
    max_comparison_units : above this many candidate person-events, a seeded random sample
        of this size (in expectation) is used (250,000: 25 comparisons for each of 10,000
        participants).
    index_shift_days : moves every index date (negative = earlier); a placebo run uses
        ``-after_days``, a period the programme cannot have affected.
    covariates : covariates for the propensity model (see evaluation.cohorts.covariates).
    caliper : greedy matching caliper in standard deviations of the distance; None for none.
    distance : "logit" (the linear predictor) or "probability" (MatchIt's default).
    ratio : comparisons per participant (k:1).
    replace : match with replacement.
    order : order participants are matched in: descending score (MatchIt's default),
        ascending, random (seeded) or data order.
    exact : covariates to match exactly on.
    mahalanobis : covariates for a Mahalanobis distance used within the caliper.
    audience : "analyst" (everything) or "partner" (aggregates only, small counts suppressed).
    suppression_threshold : for the partner audience, counts from 1 to this minus 1 are hidden.
    programme_cost_per_participant, programme_cost_total : what the programme cost, per
        participant or in total (the total is divided by everyone submitted); at most one.
        None leaves net benefit and the benefit-cost ratio out.
    cost_uplift : factor from the unit-cost table's price year (2015/16) to the report's.
    cost_price_year : the price year after the uplift, for the report (default: the table's).
    unit_cost_overrides : offence category -> cost per offence (in the table's price year),
        replacing the Home Office figure or costing a category the table does not cover.
    robustness : run the sensitivity table, placebo test and subgroups (each re-matches).
    name : a short name for the study, used in reports.
    work_dir : folder under which the working database (person-level data) is kept. None
        uses the private per-user state folder (see evaluation.files.workspace); never beside
        or inside out_dir.
    keep_work : keep the work folder after the run (it is removed by default).
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
    comparison_pool: str = "risk_set"
    max_comparison_units: int = 250_000
    index_shift_days: int = 0
    covariates: tuple[str, ...] = DEFAULT_COVARIATES
    caliper: float | None = 0.2
    distance: str = "logit"
    ratio: int = 1
    replace: bool = False
    order: str = "descending"
    exact: tuple[str, ...] = ()
    mahalanobis: tuple[str, ...] = ()
    audience: str = "analyst"
    suppression_threshold: int = 5
    programme_cost_per_participant: float | None = None
    programme_cost_total: float | None = None
    cost_uplift: float = 1.0
    cost_price_year: str | None = None
    unit_cost_overrides: tuple[tuple[str, float], ...] = ()
    robustness: bool = True
    keep_work: bool = False

    def __post_init__(self) -> None:
        # One type per setting whatever the source (a study file's 940, a deployment
        # parameter's 940.0): an amount or a factor is a float, a folder a Path.
        for name in ("programme_cost_per_participant", "programme_cost_total", "cost_uplift", "caliper"):
            value = getattr(self, name)
            if isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, name, float(value))
        for name in ("data_dir", "out_dir", "work_dir"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Path(value))
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
        if self.comparison_pool not in ("risk_set", "never_participated"):
            raise SettingsError("comparison_pool must be 'risk_set' or 'never_participated'")
        if not isinstance(self.max_comparison_units, int) or self.max_comparison_units < 1000:
            raise SettingsError("max_comparison_units must be a whole number of at least 1000")
        if not isinstance(self.index_shift_days, int):
            raise SettingsError("index_shift_days must be a whole number of days")
        unknown = [c for c in (*self.covariates, *self.exact, *self.mahalanobis) if c not in ALL_COVARIATES]
        if unknown:
            raise SettingsError(f"unknown covariate(s): {', '.join(unknown)}; choose from {', '.join(ALL_COVARIATES)}")
        if not self.covariates:
            raise SettingsError("covariates must name at least one covariate")
        if self.caliper is not None and not (isinstance(self.caliper, (int, float)) and self.caliper > 0):
            raise SettingsError("caliper must be a positive number of standard deviations, or none")
        if self.distance not in ("logit", "probability"):
            raise SettingsError("distance must be 'logit' or 'probability'")
        if not isinstance(self.ratio, int) or not 1 <= self.ratio <= 20:
            raise SettingsError("ratio must be a whole number from 1 to 20")
        if self.order not in ("descending", "ascending", "random", "data"):
            raise SettingsError("order must be descending, ascending, random or data")
        if self.audience not in ("analyst", "partner"):
            raise SettingsError("audience must be 'analyst' or 'partner'")
        if not isinstance(self.suppression_threshold, int) or not 2 <= self.suppression_threshold <= 100:
            raise SettingsError("suppression_threshold must be a whole number from 2 to 100")
        for name in ("programme_cost_per_participant", "programme_cost_total"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise SettingsError(f"{name} must be a number of pounds, 0 or more")
        if self.programme_cost_per_participant is not None and self.programme_cost_total is not None:
            raise SettingsError("give programme_cost_per_participant or programme_cost_total, not both")
        if isinstance(self.cost_uplift, bool) or not isinstance(self.cost_uplift, (int, float)) or self.cost_uplift <= 0:
            raise SettingsError("cost_uplift must be a positive number (1 keeps the table's 2015/16 prices)")
        if self.cost_price_year is not None and not isinstance(self.cost_price_year, str):
            raise SettingsError("cost_price_year must be text, e.g. \"2024/25\"")
        if self.cost_uplift != 1.0 and self.cost_price_year is None:
            raise SettingsError("with a cost_uplift, say which price year it reaches in cost_price_year")
        for category, value in self.unit_cost_overrides:
            if category not in CATEGORIES:
                raise SettingsError(f"unit_costs: unknown offence category {category!r}; choose from {', '.join(CATEGORIES)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise SettingsError(f"unit_costs: the cost of {category} must be a number of pounds, 0 or more")
        if not isinstance(self.robustness, bool):
            raise SettingsError("robustness must be true or false")
        if not isinstance(self.keep_work, bool):
            raise SettingsError("keep_work must be true or false")
        for name in ("programme_cost_per_participant", "programme_cost_total", "cost_uplift"):
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):
                raise SettingsError(f"{name} must be a finite number, not {value}")
        if self.work_dir is not None:
            work, out = Path(self.work_dir).expanduser().resolve(), Path(self.out_dir).expanduser().resolve()
            if work == out or out in work.parents:
                raise SettingsError("work_dir must not be inside the output folder: it holds person-level data")

    def updated(self, **changes: Any) -> "StudySettings":
        """These settings with some changed (validated again)."""
        return replace(self, **changes)

    @property
    def work_path(self) -> Path:
        """The person-level work folder (see evaluation.files.workspace)."""
        return work_folder(self.out_dir, self.work_dir)

    @property
    def db_path(self) -> Path:
        return self.work_path / "evaluation.duckdb"

    def to_dict(self) -> dict[str, Any]:
        """The settings that determine results (no machine paths), for results.json."""
        out = asdict(self)
        for key in ("data_dir", "out_dir", "work_dir", "keep_work"):
            out.pop(key)
        for key in ("programmes", "covariates", "exact", "mahalanobis"):
            out[key] = list(getattr(self, key))
        out["unit_cost_overrides"] = dict(self.unit_cost_overrides)
        out["cutoff"] = self.cutoff.isoformat() if self.cutoff else None
        return out


_KNOWN = {f.name for f in fields(StudySettings)}


def _suggest(key: str, known) -> str:
    """``key``, with the nearest valid setting name when there is a close one."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f"{key} (did you mean {close[0]}?)" if close else key


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
    study = dict(raw.get("study", raw))
    study.pop("schedule", None)  # read by study_schedule: it does not change results
    windows = study.pop("windows", {}) if isinstance(study.get("windows"), dict) else {}
    values: dict[str, Any] = {**study, **windows}
    unknown = sorted(set(values) - _KNOWN - {"matching", "costs"})
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s): {', '.join(_suggest(k, _KNOWN) for k in unknown)}")
    for key in ("data_dir", "out_dir", "work_dir"):
        if values.get(key) is not None:
            values[key] = (path.parent / values[key]).resolve()
    matching = values.pop("matching", None)
    if isinstance(matching, dict):
        values.update(matching)
    costs = values.pop("costs", None)
    if costs is not None:
        if not isinstance(costs, dict):
            raise SettingsError(f"{path}: [study.costs] must be a table")
        costs = dict(costs)
        overrides_table = costs.pop("unit_costs", {})
        if not isinstance(overrides_table, dict):
            raise SettingsError(f"{path}: [study.costs] unit_costs must be a table of category = pounds")
        renamed = {"uplift": "cost_uplift", "price_year": "cost_price_year"}
        for key, value in costs.items():
            name = renamed.get(key, key)
            if name not in ("programme_cost_per_participant", "programme_cost_total", "cost_uplift", "cost_price_year"):
                raise SettingsError(f"{path}: unknown setting in [study.costs]: "
                                    f"{_suggest(key, {'programme_cost_per_participant', 'programme_cost_total', 'uplift', 'price_year', 'unit_costs'})}")
            values[name] = value
        values["unit_cost_overrides"] = tuple(sorted(overrides_table.items()))
    for key in ("programmes", "covariates", "exact", "mahalanobis"):
        if key in values:
            values[key] = tuple(values[key])
    if values.get("caliper") == "none":
        values["caliper"] = None
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



def study_schedule(path: str | Path) -> dict | None:
    """A study file's ``[study.schedule]``: ``{"cron": ..., "timezone": ...}``, or None."""
    path = Path(path)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    schedule = raw.get("study", raw).get("schedule")
    if schedule is None:
        return None
    if not isinstance(schedule, dict) or not isinstance(schedule.get("cron"), str):
        raise SettingsError(f"{path}: [study.schedule] needs cron = \"<minute hour day month weekday>\"")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    timezone = schedule.get("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{path}: unknown timezone {timezone!r} (e.g. Europe/London)") from None
    if len(schedule["cron"].split()) != 5:
        raise SettingsError(f"{path}: cron {schedule['cron']!r} must have five fields")
    return {"cron": schedule["cron"], "timezone": timezone}


def study_settings(study: str | Path | None = None, **overrides: Any) -> StudySettings:
    """Settings from a study file and/or options (options win; None means not given)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if study is not None:
        return load_study(study, given)
    if "data_dir" not in given or "out_dir" not in given:
        raise SettingsError("give a study file, or both --data and --out")
    return StudySettings(**given)
