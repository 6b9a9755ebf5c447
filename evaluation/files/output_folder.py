"""Writing an evaluation's output folder atomically, and never a folder the tool did not write.

The new folder is written beside the old one (``.<name>.new-*``) and swapped in with one
atomic exchange (Linux ``renameat2(RENAME_EXCHANGE)``), so at every instant ``out_dir``
holds either the complete previous outputs or the complete new ones: a run killed at any
point leaves no partial file in it. Leftover staging folders from a killed run are
removed by the next run (only those holding the tool's marker). Where the exchange is not available, two renames are used (a
crash between them leaves the old folder as ``.<name>.old-*``, restored by the next run).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from evaluation.errors import OutputFolderError
from evaluation.files.atomic import private_dir, write_private

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _ours(folder: Path) -> bool:
    return folder.is_dir() and not folder.is_symlink() and (folder / MARKER).is_file()


def _tidy(out_dir: Path) -> None:
    """Remove staging folders left by a killed run; restore an old folder if out_dir vanished.
    Only folders holding the tool's marker are touched."""
    old = sorted(p for p in out_dir.parent.glob(f".{out_dir.name}.old-*") if _ours(p))
    if old and not out_dir.exists():
        os.replace(old[-1], out_dir)
        old = old[:-1]
    staged = [p for p in out_dir.parent.glob(f".{out_dir.name}.new-*")
              if _ours(p) or (p.is_dir() and not p.is_symlink() and not any(p.iterdir()))]
    for leftover in [*staged, *old]:
        shutil.rmtree(leftover, ignore_errors=True)


#: Written in every output folder: which files the tool wrote there. A folder is replaced
#: only when it holds this marker and nothing the marker does not list.
MARKER = ".reoffend-outputs.json"


#: What a folder holds, recorded in its marker: a folder is replaced only by one of the same
#: kind (an evaluation's outputs never by a library's site, nor data by outputs).
KINDS = ("evaluation outputs", "library site", "pseudonymised data", "synthetic data", "linked list",
         "batch outputs")


def _refuse(out_dir: Path, why: str, option: str = "--out") -> OutputFolderError:
    example = "data/NAME" if option == "--data" else "out/NAME"
    return OutputFolderError(f"{option} {out_dir}: {why}; nothing was changed. Choose a new or empty folder, "
                             f"e.g. {option} {example}")


def _kind(folder: Path) -> str | None:
    """The kind of folder the marker records (markers before kinds: told by their files)."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = marker.get("kind") if isinstance(marker, dict) else None
    if kind in KINDS:
        return kind
    files = set(marker.get("files") or []) if isinstance(marker, dict) else set()
    if "library.json" in files:
        return "library site"
    if "truth.json" in files:
        return "synthetic data"
    return "evaluation outputs" if "results.json" in files else None


def _foreign_entries(folder: Path) -> list[str]:
    """Entries of an existing folder that this tool did not write (all of them without a marker)."""
    entries = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir() or p.is_symlink())
    try:
        listed = set(json.loads((folder / MARKER).read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return entries or [p.name for p in folder.iterdir()]
    foreign = [e for e in entries if e != MARKER and e not in listed]
    foreign += [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_symlink()]
    return sorted(set(foreign))


def check_output_folder(out_dir: str | os.PathLike, *, data_dir: str | os.PathLike | None = None,
                        kind: str = "evaluation outputs", option: str = "--out") -> Path:
    """Refuse (exit 2, one line, nothing touched) an output folder the tool must not replace.

    Allowed: a folder that does not exist yet, an empty folder, or one this tool wrote as
    the same ``kind`` (it holds :data:`MARKER`, of that kind, and only the files listed in
    it). Refused: a folder of another kind (a library site over an evaluation's outputs), a symbolic link,
    the root or home folder or any folder containing the home folder, the current folder,
    the data folder, any folder containing it or inside it, and a folder holding anything
    else. Returns the folder's absolute path."""
    given = Path(out_dir).expanduser()

    def refuse(why: str) -> OutputFolderError:
        return _refuse(given, why, option)

    if given.is_symlink():
        raise refuse("is a symbolic link; give the real folder it points to")
    target = given.resolve()
    if target.parent == target:
        raise refuse("is the root folder")
    home = Path.home().resolve()
    if target == home or target in home.parents:
        raise refuse("is your home folder or contains it")
    if target == Path.cwd().resolve():
        raise refuse("is the current folder")
    if data_dir is not None:
        data = Path(data_dir).expanduser().resolve()
        if target == data:
            raise refuse("is the data folder")
        if target in data.parents:
            raise refuse(f"contains the data folder {data}")
        if data in target.parents:
            raise refuse(f"is inside the data folder {data}")
    if target.exists() and not target.is_dir():
        raise refuse("is a file, not a folder")
    if target.is_dir() and (target / MARKER).is_file() and _kind(target) != kind:
        raise refuse(f"holds {_kind(target) or 'something else'} this tool wrote, not {kind}")
    if target.is_dir():
        foreign = _foreign_entries(target)
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            if kind == "synthetic data" and not (target / MARKER).exists() and (target / "truth.json").is_file():
                # generated before folders held the marker: it cannot be told from real data, so it is kept
                raise refuse(f"holds files with no record that this tool wrote them ({shown}; synthetic data "
                             "from an earlier version?); delete that folder yourself if so, or give another")
            raise refuse(f"holds files this tool did not write ({shown})")
    return target


def write_outputs(out_dir: str | os.PathLike, files: Mapping[str, str | bytes], *,
                  data_dir: str | os.PathLike | None = None, kind: str = "evaluation outputs",
                  option: str = "--out") -> Path:
    """Write ``files`` (relative path -> content) as the whole of ``out_dir``, with the
    marker that lets a later run replace it. Refuses a folder the tool did not write
    (:func:`check_output_folder`)."""
    for rel in files:
        if Path(rel).is_absolute() or ".." in Path(rel).parts or rel == MARKER:
            raise ValueError(f"output file name {rel!r} is not a plain relative path")

    def fill(staging: Path) -> None:
        for rel, content in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_private(target, content.encode("utf-8") if isinstance(content, str) else content)

    return write_folder(out_dir, fill, data_dir=data_dir, kind=kind, option=option)


def write_folder(out_dir: str | os.PathLike, fill: Callable[[Path], None], *,
                 data_dir: str | os.PathLike | None = None, kind: str = "evaluation outputs",
                 option: str = "--out") -> Path:
    """Build a folder with ``fill(staging)`` beside ``out_dir``, add the marker listing what
    it wrote, and swap it in whole; on any failure nothing of it is left and ``out_dir`` is
    as it was. Refuses a folder the tool did not write (:func:`check_output_folder`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of folder {kind!r}")
    out_dir = check_output_folder(out_dir, data_dir=data_dir, kind=kind, option=option)
    private_dir(out_dir.parent)
    _tidy(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        os.chmod(staging, 0o700)
        (staging / MARKER).write_text(json.dumps({"tool": "reoffend", "kind": kind, "files": []}) + "\n")  # ours, if killed
        fill(staging)
        # every file but this folder's own marker (a batch's request folders hold theirs)
        written = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file() and p != staging / MARKER)
        marker = staging / MARKER
        marker.write_text(json.dumps({"tool": "reoffend", "kind": kind, "files": written}, indent=1) + "\n")
        os.chmod(marker, 0o600)
        if not out_dir.exists():
            os.replace(staging, out_dir)
        elif _exchange(staging, out_dir):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the previous outputs
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.rmdir(old)
            os.replace(out_dir, old)
            os.replace(staging, out_dir)
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def check_database_file(db_path: str | os.PathLike, *, data_dir: str | os.PathLike | None = None,
                        option: str = "--db") -> Path:
    """Refuse (one line, nothing touched) a database path the loader must not replace.

    Allowed: a path where nothing is, or a DuckDB file an earlier load made (it holds the
    loader's ``load_metadata`` table). Refused: a link, anything else that exists (a
    library, someone's own database, any other file), and a path inside the data folder
    (rejects.csv and load_report.json are written beside the database). Returns the
    absolute path."""
    given = Path(db_path).expanduser()
    target = given.resolve()

    def refuse(why: str) -> OutputFolderError:
        return OutputFolderError(f"{option} {given}: {why}; nothing was changed. Give a new file, "
                                 f"e.g. {option} out/records.duckdb")

    if data_dir is not None:
        data = Path(data_dir).expanduser().resolve()
        if target == data or data in target.parents:
            raise refuse(f"is inside the data folder {data}")
    if given.is_symlink():
        raise refuse("is a symbolic link")
    if not target.exists():
        return target
    if not target.is_file():
        raise refuse("is not a plain file")
    import duckdb

    from evaluation.db.queries import run_sql

    try:
        with duckdb.connect(str(target), read_only=True) as con:
            tables = {row[0] for row in run_sql(con, "common/database_tables").fetchall()}
    except duckdb.Error:
        raise refuse("is a file this tool did not write (not a DuckDB database)") from None
    if "load_metadata" not in tables or "evaluations" in tables:
        raise refuse("is a database this tool's loader did not write")
    return target
