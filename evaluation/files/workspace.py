"""Where an evaluation keeps what is not an output: its lock and its person-level work folder.

Both live in a private per-user state folder, never beside the outputs, so an output
folder can be zipped and sent as it is:

- ``$REOFFEND_STATE_DIR`` if set, else ``$XDG_STATE_HOME/reoffend``, else
  ``~/.local/state/reoffend`` (mode 0700);
- ``locks/<key>.lock``: one evaluation of an output folder at a time;
- ``work/<out name>-<key>/``: the working DuckDB database, rejects.csv and
  load_report.json. It is removed after the run unless ``keep_work`` is set.

``<key>`` is a short hash of the output folder's resolved path, so two studies never share
a lock or a work folder. An operator may give ``work_dir`` (a study setting or
``--work-dir``); the work folder is then a sub-folder of it that the tool creates and
removes, never the folder itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evaluation.errors import OutputFolderBusy
from evaluation.files.atomic import private_dir


def state_dir() -> Path:
    """The per-user folder for locks and work folders (created 0700 when used)."""
    explicit = os.environ.get("REOFFEND_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "reoffend"


def folder_key(out_dir: str | os.PathLike) -> str:
    """A short, stable name for an output folder (its resolved path, hashed)."""
    return hashlib.sha256(str(Path(out_dir).expanduser().resolve()).encode()).hexdigest()[:16]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40].lstrip(".") or "out"


def work_folder(out_dir: str | os.PathLike, work_dir: str | os.PathLike | None = None) -> Path:
    """The person-level work folder of the evaluation that writes ``out_dir``."""
    base = Path(work_dir).expanduser() if work_dir is not None else state_dir() / "work"
    prefix = "reoffend-" if work_dir is not None else ""
    return base / f"{prefix}{_slug(Path(out_dir).name)}-{folder_key(out_dir)}"


def remove_work(path: str | os.PathLike) -> None:
    """Remove a work folder this tool made (its name is one :func:`work_folder` gives)."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def run_lock(out_dir: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock for an evaluation writing ``out_dir`` (and its work folder).
    A second evaluation of the same folder fails at once with a clear message. The lock
    file is in the state folder, never beside the outputs."""
    locks = private_dir(state_dir() / "locks")
    lock_path = locks / f"{folder_key(out_dir)}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise OutputFolderBusy(
                f"{out_dir}: another evaluation (pid {holder}) is writing this output folder; "
                "wait for it to finish or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
