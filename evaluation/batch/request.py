"""A batch's requests: one sub-folder each, with its participants and, optionally, its own
``study.toml``; and one request's evaluation, which fails alone.

A request folder comes from someone else (a council sending its list): its name becomes a
folder name, and its study file may set what a study sets about the evaluation (name,
council, programme type, audience, windows, matching, costs) but never where anything is
read or written, which the batch decides.
"""

from __future__ import annotations

import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from evaluation.errors import ReoffendError, SettingsError
from evaluation.load import contract

#: A request's folder name: it becomes an output folder's name.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: Settings a request's study file may not set: the batch's folders, the national extract's format.
NOT_IN_A_REQUEST = frozenset({"data_dir", "participants_file", "out_dir", "work_dir", "keep_work", "library",
                              "library_site", "date_format", "columns", "cutoff", "folder", "participants",
                              "data"})


@dataclass(frozen=True)
class Request:
    """A request, with its settings as a record (``StudySettings.record()``), or why it cannot run."""

    name: str
    folder: Path
    record: dict | None
    problem: str | None = None


def _participants(folder: Path) -> Path:
    for name in (*(f"participants{s}" for s in contract.FILE_SUFFIXES), contract.LINKAGE_FILE):
        if (folder / name).is_symlink():  # another request's file, or anything else on the machine
            raise SettingsError(f"{name} is a symbolic link; a request's files must be its own")
    found = [folder / f"participants{s}" for s in contract.FILE_SUFFIXES if (folder / f"participants{s}").is_file()]
    if not found:
        raise SettingsError("no participants file (participants.csv, .parquet or .xlsx)")
    if len(found) > 1:
        raise SettingsError(f"{found[1].name} is there too; keep one of the two")
    return found[0]


def _study(folder: Path) -> dict:
    from evaluation.settings.model import _read_study_file

    path = folder / "study.toml"
    if not path.exists():
        return {}
    if path.is_symlink() or not path.is_file():
        raise SettingsError("study.toml is not a plain file")
    study = _read_study_file(path)
    refused = sorted(NOT_IN_A_REQUEST & set(study))
    if refused:
        raise SettingsError(f"study.toml sets {refused[0]}, which the batch decides (it sets the evaluation only: "
                            "name, council, programme type, audience, windows, matching, costs)")
    study.pop("schedule", None)
    study.pop("notify", None)
    return study


def find_requests(requests_dir: Path, national: Path, out_staging: Path, base: dict | None = None) -> list[Request]:
    """Every sub-folder of ``requests_dir`` (hidden ones aside), sorted by name, each with the
    settings it runs with (outputs into ``out_staging/<name>``) or the reason it cannot run."""
    from pydantic import ValidationError

    from evaluation.settings.model import StudySettings

    if not requests_dir.is_dir():
        raise SettingsError(f"{requests_dir}: the requests folder does not exist")
    found = []
    for folder in sorted(p for p in requests_dir.iterdir() if not p.name.startswith(".")):
        name = folder.name
        if folder.is_symlink() and folder.is_dir():
            found.append(Request(name[:64], folder, None, "the request folder is a symbolic link; give the folder "
                                                            "itself"))
            continue
        if not folder.is_dir():
            continue
        if not NAME.match(name):
            found.append(Request(name[:64], folder, None, "the folder's name is not 1-64 letters, digits, '.', '_' "
                                                            "or '-' (it names the output folder)"))
            continue
        try:
            study = {"name": name, **_study(folder)}
            settings = StudySettings(**{**(base or {}), **study, "data_dir": national,
                                        "participants_file": _participants(folder), "out_dir": out_staging / name})
            found.append(Request(name, folder, settings.record()))
        except (ReoffendError, ValueError, ValidationError) as exc:
            found.append(Request(name, folder, None, _one_line(exc)))
    if not found:
        raise SettingsError(f"{requests_dir}: no request folders (one sub-folder per request, each with its "
                            "participants file)")
    return found


def _one_line(exc: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(map(str, error['loc']))}: {error['msg'].removeprefix('Value error, ')}"[:300]
    return str(exc).splitlines()[0][:300] if str(exc) else exc.__class__.__name__


def run_request(name: str, record: dict, snapshot: str | None = None) -> dict:
    """Evaluate one request (its settings record; ``snapshot``: the batch's national snapshot
    for its load to copy) and return a small summary: name, status, seconds, headline or
    reason. Never raises for the request's own failure: a batch's other requests go on.
    Nothing person-level is returned."""
    import json

    from evaluation.load.preflight import preflight
    from evaluation.pipeline.runner import run_evaluation
    from evaluation.settings.model import StudySettings

    started = time.perf_counter()
    try:
        settings = StudySettings.model_validate(record)
        preflight(settings)
        run_evaluation(settings, snapshot=None if snapshot is None else Path(snapshot))
        results = json.loads((Path(settings.out_dir) / "results.json").read_text())  # the audience's view
    except ReoffendError as exc:
        return {"name": name, "status": "failed", "seconds": round(time.perf_counter() - started, 1),
                "reason": _one_line(exc)}
    except Exception as exc:  # noqa: BLE001  one request's bug fails that request, said as such
        return {"name": name, "status": "failed", "seconds": round(time.perf_counter() - started, 1),
                "reason": f"internal error: {exc.__class__.__name__}: {_one_line(exc)}",
                "traceback": traceback.format_exc(limit=5)[-2000:]}
    return {"name": name, "status": "done", "seconds": round(time.perf_counter() - started, 1),
            "headline": headline(results)}


def headline(results: dict) -> dict:
    """What the batch page shows of a request: the people analysed and the impact estimate."""
    matched = results.get("matched") or {}
    rate = matched.get("rate_ratio") or {}
    return {"participants": results["cohort"]["participants"], "rate_ratio": rate.get("estimate"),
            "ci95": rate.get("ci95"), "p_value": rate.get("p_value"),
            "before_after_only": not matched}
