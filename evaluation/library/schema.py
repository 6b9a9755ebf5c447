"""The library's trust boundary: what a partner output must be before a library takes it.

A library is shared between councils, so every folder added is treated as hostile ground:
an analyst's output with its audience edited, a partner output edited to show small counts
or exact dates, a forged cut-off far in the future, a file that is a symlink to
/dev/zero, a name of 400 characters or a dict where a name should be. Each is refused in
one line (:class:`~evaluation.errors.LibraryError`) before anything is written.

What is checked (docs/security.md, "Trust boundaries"):

- the files: regular files (not links, devices or pipes) of at most
  :data:`MAX_FILE_BYTES`, strict JSON (no NaN or Infinity), objects at the top;
- the shape: every field the library or its site reads, typed and bounded (:class:`PartnerResults`,
  :class:`PartnerManifest`): names of bounded length, rate ratios between 1e-6 and 1e6
  inside their own intervals, p-values in [0, 1], evidence levels 1 to 5, a data cut-off
  that is a month no later than this month;
- the disclosure rules, again: the output says it was made by this tool's keyed random
  rounding to a base of at least :data:`MIN_BASE`, and every count in it is a
  non-negative multiple of that base; no exact date (a day) anywhere in its data; none
  of the keys a partner output never holds (hashes, sizes, row counts, paths, survival
  curves, propensity models); no number beyond 1e12.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from evaluation.errors import LibraryError

#: The largest results.json or manifest.json a library reads (the demo's partner results are about 60 KB).
MAX_FILE_BYTES = 4 * 1024 * 1024
#: The smallest rounding base a library accepts.
MIN_BASE = 5
#: Keys a partner output never holds, anywhere in it.
FORBIDDEN_KEYS = frozenset({
    "sha256", "bytes", "rows_read", "data_dir", "out_dir", "work_dir", "folder", "path", "site", "person_id",
    "curves", "propensity_model", "propensity_overlap", "excluded_units", "units_without_control_window",
    "comparisons_censored", "truncated_person_intervals", "keep_work",
})
_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_MONTH = r"^\d{4}(-(0[1-9]|1[0-2]))?$"

Name = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"\S")]
Text = Annotated[str, StringConstraints(max_length=300)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"\S")]
Month = Annotated[str, StringConstraints(pattern=_MONTH)]
Ratio = Annotated[float, Field(gt=1e-6, lt=1e6, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=100_000_000)]


class _Open(BaseModel):
    """A part of a results file: the fields named are checked, others are checked by the walk."""

    model_config = ConfigDict(extra="allow", strict=True)


class _Study(_Open):
    name: Name
    title: Text | None = None
    council: Name | None = None
    programme_type: Tag | None = None
    programme_setting: Tag | None = None


class _Suppression(_Open):
    method: Literal["keyed random rounding"]
    base: Annotated[int, Field(ge=MIN_BASE, le=100)]


class _RateRatio(_Open):
    estimate: Ratio | None = None
    ci95: Annotated[list[Ratio], Field(min_length=2, max_length=2)] | None = None
    p_value: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _inside(self):
        if self.estimate is not None and self.ci95 is not None and not self.ci95[0] <= self.estimate <= self.ci95[1]:
            raise ValueError("the rate ratio lies outside its own interval")
        return self


Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PerPerson = Annotated[float, Field(ge=0, le=1e4, allow_inf_nan=False)]


class _Arms(_Open):
    treated: Share | None = None
    comparison: Share | None = None


class _Frequency(_Open):
    treated: PerPerson | None = None
    comparison: PerPerson | None = None


class _Matched(_Open):
    treated: Count
    comparison: Count
    rate_ratio: _RateRatio
    reoffending_rate: _Arms
    frequency: _Frequency


class _BeforeAfter(_Open):
    offences_before: Count
    offences_after: Count


class _Cohort(_Open):
    participants: Count
    submitted: Count
    data_cutoff: Month | None = None
    index_dates: Annotated[list[Month], Field(max_length=2)] = []


class _Level(_Open):
    level: Annotated[int, Field(ge=1, le=5)]


Reason = Annotated[str, StringConstraints(max_length=2000)]


class _Evidence(_Open):
    maryland: _Level
    nesta: _Level
    reasons: Annotated[list[Reason], Field(max_length=30)] = []


class _Check(_Open):
    fired: bool | None = None
    reading: Reason | None = None


class PartnerResults(_Open):
    """The parts of a partner results.json the library reads."""

    audience: Literal["partner"]
    study: _Study
    suppression: _Suppression
    cohort: _Cohort
    before_after: _BeforeAfter
    matched: _Matched | None = None
    evidence: _Evidence
    falsification: _Check | None = None
    withheld: Annotated[list[Reason], Field(max_length=10)] = []


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    file: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    table: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class PartnerManifest(_Open):
    """The parts of a partner manifest.json the library reads (no sizes, hashes or paths)."""

    audience: Literal["partner"]
    finished: Annotated[str, StringConstraints(max_length=40)] | None = None
    code_version: Annotated[str, StringConstraints(max_length=64)] | None = None
    inputs: Annotated[list[_Input], Field(max_length=20)] = []


def read_json(path: Path) -> dict:
    """A results or manifest file as a dict: a regular file (not a link, device or pipe) of
    at most MAX_FILE_BYTES, strict JSON with an object at the top."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise LibraryError(f"{path}: not found (give the output folder of a partner evaluation)") from None
    except OSError as exc:
        raise LibraryError(f"{path}: cannot be opened as a plain file ({exc.strerror.lower()}; a link is refused)") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise LibraryError(f"{path}: not a plain file")
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise LibraryError(f"{path}: larger than {MAX_FILE_BYTES // 1024 // 1024} MB, which no partner output is")

    def refuse_constant(name):
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        value = json.loads(data.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise LibraryError(f"{path}: not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(value, dict):
        raise LibraryError(f"{path}: not a JSON object")
    return value


def _problem(value, base: int, path: str = "") -> str | None:
    """The first thing in ``value`` that a partner output never holds, or None."""
    from evaluation.report.disclosure import COUNT_KEYS

    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key in FORBIDDEN_KEYS:
                return f"{where} is not something a partner output holds"
            if key in COUNT_KEYS and isinstance(item, int) and not isinstance(item, bool):
                if item < 0 or item % base:
                    return f"{where} = {item} is not a count rounded to a multiple of {base}"
            found = _problem(item, base, where)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _problem(item, base, f"{path}[{i}]")
            if found:
                return found
    elif isinstance(value, bool) or value is None:
        return None
    elif isinstance(value, (int, float)):
        if not math.isfinite(value) or abs(value) > 1e12:
            return f"{path} = {str(value)[:20]} is not a plausible number"
    elif isinstance(value, str):
        if len(value) > 5000:
            return f"{path} is a text of {len(value):,} characters"
    return None


def check_partner_output(results: dict, manifest: dict, *, where: str) -> tuple[PartnerResults, PartnerManifest]:
    """Refuse, in one line, anything that is not a partner output made by this tool as the
    module describes; return the checked fields."""
    if results.get("audience") != "partner" or manifest.get("audience") != "partner":
        raise LibraryError(f"{where}: not a partner output (run the evaluation with --audience partner); a library "
                           "takes partner outputs only, so that nothing person-level enters it")
    try:
        checked = PartnerResults.model_validate(results)
        checked_manifest = PartnerManifest.model_validate(manifest)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise LibraryError(f"{where}: {field or 'results'}: {first['msg'].lower()}") from None
    base = checked.suppression.base
    for name, part in (("results.json", {k: v for k, v in results.items() if k != "study"}),
                       ("manifest.json", {k: v for k, v in manifest.items() if k != "settings"})):
        found = _problem(part, base)
        if found:
            raise LibraryError(f"{where}: {name}: {found}")
    found = _problem(manifest.get("settings") or {}, base)
    if found and "is not something" in found:
        raise LibraryError(f"{where}: manifest.json: settings.{found}")
    for section in sorted(set(results) - {"study"}):  # a setting (study.cutoff) may be a day; data may not
        day = _DAY.search(json.dumps(results.get(section)))
        if day:
            raise LibraryError(f"{where}: results.json: {section} holds an exact date ({day.group()}); partner "
                               "outputs give months")
    cutoff = checked.cohort.data_cutoff
    this_month = dt.date.today().strftime("%Y-%m")
    if cutoff and cutoff[:7] > this_month:
        raise LibraryError(f"{where}: its data cut-off {cutoff} is in the future")
    return checked, checked_manifest
