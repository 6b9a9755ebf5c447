"""The start of an evaluation's cohort flow when its participants came from ``reoffend link``:
how many were on the council's list, how many were identified in the police data, and why
the others were not.

``linkage.json`` sits beside the participants file. It is read as input from someone else's
machine: its shape is checked, its counts must add up, the participants file must be the very
file it describes (SHA-256), and each programme's identified count must equal that file's
rows. Anything else is refused in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from evaluation.errors import DataFileError
from evaluation.link.fields import NOT_IDENTIFIED_REASONS
from evaluation.load import contract
from evaluation.provenance.manifest import sha256_file

_Count = Annotated[int, Field(ge=0, le=100_000_000)]
_Reason = Literal[NOT_IDENTIFIED_REASONS]
_Programme = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Programme_counts(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    listed: _Count
    identified: _Count
    not_identified: Annotated[dict[_Reason, _Count], Field(max_length=20)]
    duplicates: _Count


class _Participants(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    file: Annotated[str, StringConstraints(max_length=200)]
    rows: _Count
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _Estimated(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    precision: Annotated[float, Field(ge=0, le=1)] | None
    recall: Annotated[float, Field(ge=0, le=1)] | None


class _Threshold(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    match_probability: Annotated[float, Field(ge=0.5, lt=1)]


class _Linkage(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    schema_: Annotated[str, Field(alias="schema", pattern="^reoffend linkage$")]
    schema_version: Annotated[int, Field(ge=1, le=1)]
    by_programme: Annotated[dict[_Programme, _Programme_counts], Field(max_length=1000)]
    participants: _Participants
    estimated: _Estimated
    threshold: _Threshold


@dataclass(frozen=True)
class LinkageFlow:
    """The list's rows on the evaluated programmes: ``listed`` = ``identified`` + Σ ``not_identified``
    (rows typed twice, ``duplicates``, counted apart)."""

    listed: int
    identified: int
    #: the different people among the identified rows (a person may start twice)
    identified_people: int
    not_identified: dict[str, int]
    duplicates: int
    estimated_precision: float | None
    estimated_recall: float | None
    threshold: float

    def to_dict(self) -> dict:
        return {"listed": self.listed, "identified": self.identified, "identified_people": self.identified_people,
                "not_identified": dict(sorted(self.not_identified.items())), "duplicates": self.duplicates,
                "estimated_precision": None if self.estimated_precision is None else round(self.estimated_precision, 4),
                "estimated_recall": None if self.estimated_recall is None else round(self.estimated_recall, 4),
                "threshold": self.threshold}


def read_linkage(participants_file: Path, programmes: tuple[str, ...]) -> LinkageFlow | None:
    """The linkage flow for ``programmes``, or None when there is no linkage.json beside the
    participants file (``participants_file``, the file the evaluation read)."""
    from evaluation.library.schema import LibraryError, read_json

    path = participants_file.parent / contract.LINKAGE_FILE
    if not path.exists() and not path.is_symlink():
        return None

    def refuse(why: str) -> DataFileError:
        return DataFileError(f"{why}; run reoffend link again, or take linkage.json away to evaluate without it",
                             file=str(path))

    try:
        document = _Linkage.model_validate(read_json(path))
    except LibraryError as exc:
        raise refuse(str(exc).split(": ", 1)[-1]) from None
    except ValidationError as exc:
        error = exc.errors()[0]
        raise refuse(f"not a linkage.json reoffend link wrote ({'.'.join(map(str, error['loc']))}: "
                     f"{error['msg'][:80]})") from None
    if sha256_file(participants_file) != document.participants.sha256:
        raise refuse(f"it describes another participants file than {participants_file.name} (SHA-256 differs)")
    if participants_file.suffix != ".csv":
        raise refuse("reoffend link writes its participants as CSV")
    linked = pl.read_csv(participants_file, columns=["person_id", "programme"], infer_schema=False)
    rows = linked["programme"].value_counts()
    in_file = dict(zip(rows["programme"].to_list(), rows["count"].to_list()))
    for programme, counts in document.by_programme.items():
        if counts.listed != counts.identified + sum(counts.not_identified.values()):
            raise refuse(f"programme {programme[:40]!r}: listed is not identified + not identified")
        if counts.identified != in_file.get(programme, 0):
            raise refuse(f"programme {programme[:40]!r}: {counts.identified:,} identified, but the participants "
                         f"file has {in_file.get(programme, 0):,} rows")
    chosen = [document.by_programme[p] for p in programmes if p in document.by_programme]
    not_identified: dict[str, int] = {}
    for counts in chosen:
        for reason, n in counts.not_identified.items():
            not_identified[reason] = not_identified.get(reason, 0) + n
    people = linked.filter(pl.col("programme").is_in(list(programmes)))["person_id"].n_unique()
    return LinkageFlow(sum(c.listed for c in chosen), sum(c.identified for c in chosen), people, not_identified,
                       sum(c.duplicates for c in chosen), document.estimated.precision, document.estimated.recall,
                       document.threshold.match_probability)
