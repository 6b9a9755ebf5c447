"""Study settings: what to evaluate and how, nested by concern and validated in one place.

:class:`StudySettings` holds the study's name, seed and folders, and one section per
concern: ``data``, ``windows``, ``matching``, ``costs``, ``checks`` and ``audience``.
Every value is validated here (pydantic), whatever its source: a study file, a command-line
option (the CLI's options are generated from :data:`FLAT`), Python keyword arguments or a
Prefect deployment's JSON parameters.

Each setting also has one flat name (``before_days``, ``caliper``, ``cost_uplift``, ...):
the key of results.json's ``study`` record, the ``--option`` of ``reoffend evaluate``, and
accepted at the top of a study file or as a keyword argument. In a study file a setting
may also sit in its section's table (``[study.windows] before_days = 365``,
``[study.costs] uplift = 1.0``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError, field_validator, model_validator

from evaluation.cohorts.covariates import ALL_COVARIATES, DEFAULT_COVARIATES
from evaluation.errors import SettingsError
from evaluation.files.workspace import work_folder
from evaluation.load.contract import CATEGORIES, DATE_FORMATS, ISO_DATES, TABLES
from evaluation.match.caliper import check_caliper

#: Every column name of the data contract (a column map's keys).
CONTRACT_COLUMNS = frozenset(c.name for t in TABLES for c in t.columns)

Days = int


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


def column_pairs(value: Any) -> Any:
    """The command line's COLUMN=HEADER items (one per --column) as {column: header}."""
    if isinstance(value, (list, tuple)):
        pairs = {}
        for item in value:
            column, sep, header = str(item).partition("=")
            if not sep:
                raise ValueError(f"{item!r} is not COLUMN=HEADER (e.g. person_id='PNC ID')")
            pairs[column.strip()] = header.strip().strip("'\"")
        return pairs
    return value


def checked_column_map(value: dict[str, str], known: frozenset[str],
                       what: str = "a column of the data contract (docs/data-contract.md)") -> dict[str, str]:
    """A column map whose columns are all ``known`` and whose headers are distinct and printable."""
    for column, header in value.items():
        if column not in known:
            raise ValueError(f"{column!r} is not {what}")
        if not header.strip() or len(header) > 200 or any(ord(ch) < 32 for ch in header):
            raise ValueError(f"the header given for {column} must be 1-200 printable characters")
    if len(set(value.values())) < len(value):
        raise ValueError("two columns are mapped to one header")
    return value


class DataSettings(_Section):
    """Which data, and which of its programmes."""

    folder: Path = Field(description="data folder holding the input tables (docs/data-contract.md)")
    participants: Path | None = Field(
        None, description="the participants file, when it is not the data folder's own (e.g. the participants.csv "
                          "reoffend link wrote; its linkage.json beside it is read too)")
    programmes: tuple[str, ...] = Field((), max_length=1000,
                                        description="programmes to evaluate, pooled (default: every one)")
    cutoff: dt.date | None = Field(None, description="the data's cut-off date YYYY-MM-DD (default: the latest outcome_date)")
    date_format: Literal[tuple(DATE_FORMATS)] = Field(  # the data contract's formats, one list
        ISO_DATES, description="how the data files write their dates (UK exports: DD/MM/YYYY)")
    columns: dict[str, str] = Field(
        default_factory=dict, max_length=40,
        description="the column map: which header of the CSV and Excel files is which column of the data "
                    "contract, as COLUMN=HEADER (e.g. person_id='PNC ID')")

    @field_validator("columns", mode="before")
    @classmethod
    def _column_map(cls, value: Any) -> Any:
        return column_pairs(value)

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, str]) -> dict[str, str]:
        return checked_column_map(value, CONTRACT_COLUMNS)

    @field_validator("programmes")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not p.strip() for p in value):
            raise ValueError("programmes must be non-empty names")
        if any(len(p) > 200 for p in value):
            raise ValueError("a programme name is longer than 200 characters")
        return value

    @field_validator("cutoff")
    @classmethod
    def _not_future(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > dt.date.today():
            raise ValueError(f"{value} is in the future; the cut-off is the last day the data are complete to")
        return value


class WindowSettings(_Section):
    """Half-open windows around each index date, in days."""

    before_days: Days = Field(365, ge=1, le=3650, description="before window in days")
    after_days: Days = Field(365, ge=1, le=3650, description="after window in days")
    waiting_days: Days = Field(182, ge=0, le=3650,
                               description="days after a window within which an offence must be proven (MoJ: 182)")
    index_shift_days: int = Field(0, ge=-36500, le=36500, description="moves every index date (negative = earlier)")
    referral_window_days: Days = Field(
        28, ge=0, le=365, description="without a referral date, the most days from the referring conviction to the "
                                      "start: none of a participant's events in that many days before their start is "
                                      "a comparison unit (any may be their referral)")


class MatchingSettings(_Section):
    """The comparison pool, the propensity model and the matcher."""

    comparison_pool: Literal["risk_set", "never_participated"] = Field(
        "risk_set", description="risk_set (anyone not yet started at the index date) or never_participated")
    max_comparison_units: int = Field(250_000, ge=1000,
                                      description="above this many eligible candidate person-events (or 50 per "
                                                  "participant, if more) a seeded sample of that many is used")
    covariates: tuple[str, ...] = Field(DEFAULT_COVARIATES, min_length=1, description="propensity model covariates")
    caliper: float | None = Field(0.2, description="caliper in SDs of the distance, or none")
    distance: Literal["logit", "probability"] = Field("logit", description="logit (linear predictor) or probability")
    ratio: int = Field(1, ge=1, le=20, description="comparisons per participant (k:1)")
    replace: bool = Field(True, description="match with replacement, the default; --no-replace matches without it "
                                            "(where comparisons like the heaviest participants are scarce, the last "
                                            "of them are then matched with lighter ones)")
    order: Literal["descending", "ascending", "random", "data"] = Field(
        "descending", description="order participants are matched in (MatchIt's default: descending score)")
    fill: Literal["rounds", "participant"] = Field(
        "rounds", description="k:1 without replacement: rounds (MatchIt's: every participant's first match, "
                              "then every second) or participant (each participant's k in turn)")
    exact: tuple[str, ...] = Field(("index_after_release",), description="covariates to match exactly on (default: "
                                   "the kind of triggering event, so someone just released is compared with others "
                                   "just released; none for no exact matching)")
    mahalanobis: tuple[str, ...] = Field((), description="covariates for a Mahalanobis distance within the caliper")

    @field_validator("caliper", mode="before")
    @classmethod
    def _caliper(cls, value: Any) -> Any:
        return check_caliper(value)  # one definition: evaluation/match/caliper.py

    @field_validator("exact", "mahalanobis", mode="before")
    @classmethod
    def _no_columns(cls, value: Any) -> Any:
        """``none`` (``--exact none``, ``exact = "none"``) is the empty list: no exact matching."""
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)) and [str(v).strip().lower() for v in value] in (["none"], [""]):
            return ()
        return value

    @model_validator(mode="after")
    def _known(self) -> MatchingSettings:
        unknown = [c for c in (*self.covariates, *self.exact, *self.mahalanobis) if c not in ALL_COVARIATES]
        if unknown:
            raise ValueError(f"unknown covariate(s): {', '.join(unknown)}; choose from {', '.join(ALL_COVARIATES)}")
        return self


class CostSettings(_Section):
    """Value for money: the programme's cost and the unit costs of crime."""

    programme_cost_per_participant: FiniteFloat | None = Field(None, ge=0, description="programme cost per participant, £")
    programme_cost_total: FiniteFloat | None = Field(None, ge=0,
                                               description="programme cost in total, £ (spread over everyone submitted)")
    programme_cost_price_year: str | None = Field(
        None, max_length=20, description="the price year of the programme's cost, e.g. 2009/10 (a cost in another "
                                         "year than the cost of crime's is warned about)")
    uplift: FiniteFloat = Field(1.0, gt=0, description="factor from the unit-cost table's 2015/16 prices to the report's")
    price_year: str | None = Field(None, description="the price year the uplift reaches, e.g. 2024/25")
    unit_costs: tuple[tuple[str, FiniteFloat], ...] = Field(
        (), description="offence category -> £ per offence (2015/16 prices), replacing or adding a Home Office figure")

    @field_validator("unit_costs", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        return tuple(sorted(value.items())) if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _consistent(self) -> CostSettings:
        if self.programme_cost_per_participant is not None and self.programme_cost_total is not None:
            raise ValueError("give programme_cost_per_participant or programme_cost_total, not both")
        if self.uplift != 1.0 and self.price_year is None:
            raise ValueError("with a cost_uplift, say which price year it reaches in cost_price_year")
        for category, pounds in self.unit_costs:
            if category not in CATEGORIES:
                raise ValueError(f"unit_costs: unknown offence category {category!r}; choose from {', '.join(CATEGORIES)}")
            if pounds < 0:
                raise ValueError(f"unit_costs: the cost of {category} must be a number of pounds, 0 or more")
        return self


class CheckSettings(_Section):
    """Which checks run, and how hard the bootstrap works."""

    robustness: bool = Field(True, description="run the sensitivity table, falsification test and subgroups (each re-matches)")
    bootstrap_resamples: int = Field(2000, ge=100, le=100_000, description="bootstrap resamples for intervals")


class AudienceSettings(_Section):
    """Who the outputs are for."""

    kind: Literal["analyst", "partner"] = Field(
        "analyst", description="analyst (everything) or partner (aggregates only, every count rounded)")
    suppression_threshold: int = Field(5, ge=2, le=100,
                                       description="partner outputs round every count to a multiple of this "
                                                   "(keyed random rounding)")


class LibrarySettings(_Section):
    """The evidence library this study's partner results join after each run, and the
    tags that say which programmes it is pooled with (``[study.library]``)."""

    type: str | None = Field(None, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _-]*$",
                             description="programme type for pooling in an evidence library, e.g. employment")
    setting: str | None = Field(None, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _-]*$",
                                description="where the programme runs, e.g. community or custody")
    council: str | None = Field(None, max_length=80, description="the council or partnership that ran it")
    path: Path | None = Field(None, description="evidence library (a DuckDB file) to add this study's partner "
                                                "results to after each run, and rebuild")
    site: Path | None = Field(None, description="folder for the library's static site (default: site/ beside the library)")


#: Every setting by its flat name: (section, field). Top-level settings have section None.
#: The order is that of results.json's ``study`` record.
FLAT: dict[str, tuple[str | None, str]] = {
    "programmes": ("data", "programmes"),
    "before_days": ("windows", "before_days"),
    "after_days": ("windows", "after_days"),
    "waiting_days": ("windows", "waiting_days"),
    "cutoff": ("data", "cutoff"),
    "seed": (None, "seed"),
    "name": (None, "name"),
    "title": (None, "title"),
    "bootstrap_resamples": ("checks", "bootstrap_resamples"),
    "comparison_pool": ("matching", "comparison_pool"),
    "max_comparison_units": ("matching", "max_comparison_units"),
    "index_shift_days": ("windows", "index_shift_days"),
    "referral_window_days": ("windows", "referral_window_days"),
    "covariates": ("matching", "covariates"),
    "caliper": ("matching", "caliper"),
    "distance": ("matching", "distance"),
    "ratio": ("matching", "ratio"),
    "replace": ("matching", "replace"),
    "order": ("matching", "order"),
    "fill": ("matching", "fill"),
    "exact": ("matching", "exact"),
    "mahalanobis": ("matching", "mahalanobis"),
    "audience": ("audience", "kind"),
    "suppression_threshold": ("audience", "suppression_threshold"),
    "programme_cost_per_participant": ("costs", "programme_cost_per_participant"),
    "programme_cost_total": ("costs", "programme_cost_total"),
    "programme_cost_price_year": ("costs", "programme_cost_price_year"),
    "cost_uplift": ("costs", "uplift"),
    "cost_price_year": ("costs", "price_year"),
    "unit_cost_overrides": ("costs", "unit_costs"),
    "robustness": ("checks", "robustness"),
    "programme_type": ("library", "type"),
    "programme_setting": ("library", "setting"),
    "council": ("library", "council"),
    # not in results.json: where things are, not what the results are
    "data_dir": ("data", "folder"),
    "participants_file": ("data", "participants"),
    "date_format": ("data", "date_format"),
    "columns": ("data", "columns"),
    "out_dir": (None, "out_dir"),
    "work_dir": (None, "work_dir"),
    "keep_work": (None, "keep_work"),
    "library": ("library", "path"),
    "library_site": ("library", "site"),
}
#: The flat names that are not part of the results (machine paths and housekeeping).
NOT_IN_RESULTS = ("data_dir", "participants_file", "date_format", "columns", "out_dir", "work_dir", "keep_work", "library",
                  "library_site")
SECTIONS = ("data", "windows", "matching", "costs", "checks", "audience", "library")


def _route(values: dict[str, Any]) -> dict[str, Any]:
    """Flat names and section tables into the nested shape; unknown keys get the nearest."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        if key in SECTIONS and isinstance(value, (dict, BaseModel)):
            table = value.model_dump() if isinstance(value, BaseModel) else value
            section_fields = StudySettings.model_fields[key].annotation.model_fields
            by_field = {f: f for f in section_fields} | {flat: field for flat, (s, field) in FLAT.items() if s == key}
            for name, item in table.items():
                if name not in by_field:
                    raise SettingsError(f"unknown setting in [study.{key}]: {_suggest(name, by_field)}")
                nested.setdefault(key, {})[by_field[name]] = item
        elif key in FLAT:
            section, field = FLAT[key]
            if section is None:
                nested[field] = value
            else:
                nested.setdefault(section, {})[field] = value
        elif key in StudySettings.model_fields:
            nested[key] = value
        else:
            raise SettingsError(f"unknown setting: {_suggest(key, [*FLAT, *SECTIONS])}")
    return nested


def _suggest(key: str, known) -> str:
    """``key``, with the nearest valid setting name when there is a close one."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f"{key} (did you mean {close[0]}?)" if close else key


def _one_line(exc: ValidationError) -> str:
    """A pydantic error as one line: the setting's flat name and what is wrong."""
    flat_of = {(s, f): flat for flat, (s, f) in FLAT.items()}
    parts = []
    for error in exc.errors():
        loc = tuple(str(p) for p in error["loc"])
        name = flat_of.get((loc[0], loc[1]) if len(loc) >= 2 else (None, loc[0]) if loc else None)
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{name}: {message}" if name else message)  # no name: a check across settings
    return "; ".join(parts)


class StudySettings(BaseModel):
    """Everything that determines an evaluation's results, and where it reads and writes.

    Construct it with flat names (``StudySettings(data_dir=..., out_dir=..., caliper=0.1)``)
    or with sections (``matching={"caliper": 0.1}``); read it by section
    (``settings.matching.caliper``). It is immutable: :meth:`updated` makes a changed copy,
    validated again.

    Attributes
    ----------
    name : a short name for the study (a slug), used in file names and the library.
    title : the study's display title in reports; None: a readable form of the name.
    seed : seed for every random step (bootstrap, matching ties), so runs are reproducible.
    out_dir : folder the evaluation writes its outputs into.
    work_dir : folder under which the person-level working database is kept; None uses the
        private per-user state folder (evaluation.files.workspace); never beside the outputs.
    keep_work : keep the work folder after the run (it is removed by default).
    data, windows, matching, costs, checks, audience, library : the sections (see each class).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field("evaluation", min_length=1, max_length=80, pattern=r"\S",
                      description="a short name for the study, used in reports")
    title: str | None = Field(None, max_length=120,
                              description="display title in reports (default: a readable form of the name)")
    seed: int = Field(20130401, ge=0, le=2**32 - 1, description="seed for the bootstrap and matching")
    out_dir: Path = Field(description="output folder (replaced atomically, only if the tool wrote it)")
    work_dir: Path | None = Field(None, description="where the person-level working database goes")
    keep_work: bool = Field(False, description="keep the working database after the run")
    data: DataSettings
    windows: WindowSettings = WindowSettings()
    matching: MatchingSettings = MatchingSettings()
    costs: CostSettings = CostSettings()
    checks: CheckSettings = CheckSettings()
    audience: AudienceSettings = AudienceSettings()
    library: LibrarySettings = LibrarySettings()

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**_route(values))
        except ValidationError as exc:
            raise SettingsError(_one_line(exc)) from None

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, values: Any) -> Any:
        """JSON parameters (a Prefect deployment, a manifest) may be flat or nested."""
        return _route(dict(values)) if isinstance(values, dict) else values

    @model_validator(mode="after")
    def _work_outside_outputs(self) -> StudySettings:
        out, data = self.out_dir.expanduser().resolve(), self.data.folder.expanduser().resolve()

        def overlaps(path: Path, folder: Path) -> bool:
            return path == folder or folder in path.parents or path in folder.parents

        if self.work_dir is not None:
            work = self.work_dir.expanduser().resolve()
            if work == out or out in work.parents:
                raise ValueError("work_dir must not be inside the output folder: it holds person-level data")
        if self.data.participants is not None and overlaps(self.data.participants.expanduser().resolve(), out):
            raise ValueError("participants_file must be outside the output folder, which is replaced whole and is "
                             "for outputs only: it holds person-level data")
        # the library and its site are written after the outputs: neither may sit in (or
        # hold) the output folder, which is replaced whole, or the data folder
        for name, path in (("library", self.library.path), ("library_site", self.library.site)):
            if path is None:
                continue
            path = Path(path).expanduser().resolve()
            for what, folder in (("output folder", out), ("data folder", data)):
                if overlaps(path, folder):
                    raise ValueError(f"{name} must be outside the {what} ({folder}); give it a folder of its own")
        return self

    def updated(self, **changes: Any) -> StudySettings:
        """These settings with some changed (flat names), validated again."""
        return StudySettings(**{**self.flat(), **changes})

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name (see :data:`FLAT`), as Python values."""
        return {name: getattr(self if section is None else getattr(self, section), field)
                for name, (section, field) in FLAT.items()}

    @property
    def data_dir(self) -> Path:
        return self.data.folder

    @property
    def work_path(self) -> Path:
        """The person-level work folder (see evaluation.files.workspace)."""
        return work_folder(self.out_dir, self.work_dir)

    @property
    def db_path(self) -> Path:
        return self.work_path / "evaluation.duckdb"

    def to_dict(self) -> dict[str, Any]:
        """The settings that determine results (no machine paths): results.json's ``study``."""
        out = {k: v for k, v in self.flat().items() if k not in NOT_IN_RESULTS}
        for key in ("programmes", "covariates", "exact", "mahalanobis"):
            out[key] = list(out[key])
        out["unit_cost_overrides"] = dict(out["unit_cost_overrides"])
        out["cutoff"] = out["cutoff"].isoformat() if out["cutoff"] else None
        return out

    def record(self) -> dict[str, Any]:
        """The full resolved settings, paths included (resolved), as JSON values: the
        manifest's record and a deployment's parameters; :class:`StudySettings` reads it back."""
        out = self.model_dump(mode="json")
        out["out_dir"] = str(self.out_dir.resolve())
        out["work_dir"] = None if self.work_dir is None else str(self.work_dir.resolve())
        out["data"]["folder"] = str(self.data.folder.resolve())
        if self.data.participants is not None:
            out["data"]["participants"] = str(self.data.participants.resolve())
        return out


def _read_study_file(path: Path) -> dict[str, Any]:
    """A study file's ``[study]`` table (or its top level), parsed once, with one-line errors."""
    raw = read_toml(path)
    return dict(raw.get("study", raw))


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file (a study's or a batch's), with one-line errors."""
    import tomllib

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: study file not found") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text; save the study file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    return raw


def load_study(path: str | Path, overrides: dict[str, Any] | None = None) -> StudySettings:
    """Read a TOML study file; relative paths in it are relative to the file.

    ``overrides`` (flat names, e.g. from the command line) replace the file's values; None
    values are ignored."""
    path = Path(path)
    return _study_settings(path, _read_study_file(path), overrides)


def _study_settings(path: Path, study: dict[str, Any], overrides: dict[str, Any] | None = None) -> StudySettings:
    study = dict(study)
    study.pop("schedule", None)  # operations (study_with_operations): they do not change results
    study.pop("notify", None)
    for key in ("data_dir", "participants_file", "out_dir", "work_dir", "library", "library_site"):
        if isinstance(study.get(key), str):
            study[key] = (path.parent / study[key]).resolve()
    library = study.get("library")
    if isinstance(library, dict):
        study["library"] = {k: (path.parent / v).resolve() if k in ("path", "site") and isinstance(v, str) else v
                            for k, v in library.items()}
    try:
        nested = _route(study)
        for flat, value in (overrides or {}).items():
            if value is None:
                continue
            section, field = FLAT[flat]
            (nested if section is None else nested.setdefault(section, {}))[field] = value
        if "out_dir" not in nested or "folder" not in nested.get("data", {}):
            missing = "data_dir" if "folder" not in nested.get("data", {}) else "out_dir"
            raise SettingsError(f"{missing} is required")
        return StudySettings(**nested)
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None


def study_settings(study: str | Path | None = None, **overrides: Any) -> StudySettings:
    """Settings from a study file and/or options (options win; None means not given)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if study is not None:
        return load_study(study, given)
    if "data_dir" not in given or "out_dir" not in given:
        raise SettingsError("give a study file, or both --data and --out")
    return StudySettings(**given)


def study_with_operations(path: str | Path, raw: dict[str, Any] | None = None,
                          ) -> tuple[StudySettings, dict | None, str | None]:
    """A study file read once: its settings, and its operations, which do not change its
    results: its ``[study.schedule]`` (``{"cron": ..., "timezone": ...}`` or None) and the
    Prefect notification block its ``[study.notify]`` names for a failed run (``on_failure =
    "custom-webhook/ops-alerts"``, a block type's slug and the block's name, or None)."""
    path = Path(path)
    study = _read_study_file(path) if raw is None else dict(raw.get("study", raw))
    return (_study_settings(path, study), operations_schedule(path, study.get("schedule")),
            operations_notify(path, study.get("notify")))


def operations_notify(path: Path, notify: Any, table: str = "study") -> str | None:
    """The notification block ``[<table>.notify]`` names, checked, or None."""
    if notify is None:
        return None
    block = notify.get("on_failure") if isinstance(notify, dict) else None
    if not isinstance(block, str) or not re.fullmatch(r"[a-z0-9-]{1,64}/[A-Za-z0-9_.-]{1,128}", block):
        raise SettingsError(f"{path}: [{table}.notify] needs on_failure = \"<block type>/<block name>\", a saved "
                            "Prefect notification block such as \"custom-webhook/ops-alerts\"")
    return block


def operations_schedule(path: Path, schedule: Any, table: str = "study") -> dict | None:
    """``[<table>.schedule]``, checked: ``{"cron": ..., "timezone": ...}``, or None."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if schedule is None:
        return None
    if not isinstance(schedule, dict) or not isinstance(schedule.get("cron"), str):
        raise SettingsError(f"{path}: [{table}.schedule] needs cron = \"<minute hour day month weekday>\"")
    timezone = schedule.get("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise SettingsError(f"{path}: unknown timezone {timezone!r} (e.g. Europe/London)") from None
    if len(schedule["cron"].split()) != 5:
        raise SettingsError(f"{path}: cron {schedule['cron']!r} must have five fields")
    return {"cron": schedule["cron"], "timezone": timezone}
