"""Where an evaluation keeps what is not an output: its lock and its person-level work folder.

Both live in a private per-user state folder, never beside the outputs, so an output
folder can be zipped and sent as it is:

- ``$REOFFEND_STATE_DIR`` if set, else ``$XDG_STATE_HOME/reoffend``, else
  ``~/.local/state/reoffend`` (mode 0700);
- ``locks/<key>.lock``: one evaluation of an output folder at a time;
- ``work/reoffend-<uid>-<random>/<out name>-<key>/``: the working DuckDB database,
  rejects.csv and load_report.json, in a private folder with a name nobody can guess. It is
  removed after the run unless ``keep_work`` is set; a killed run's is removed by the next
  run of any study.

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
import stat
import tempfile
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


def _owned_private(path: Path) -> bool:
    """A real folder (not a link), owned by this user, that nobody else can enter."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077 == 0


def private_parent(base: Path) -> Path:
    """This user's private folder in ``base`` (which may be shared, such as /tmp):
    ``reoffend-<uid>-<random>``, made by ``tempfile.mkdtemp`` (mode 0700, a name nobody can
    guess or plant in advance), and found again on later runs only if it is a real folder
    this user owns with no access for others. Nothing is ever followed through a link."""
    base = private_dir(Path(base).expanduser())
    prefix = f"reoffend-{os.getuid()}-"
    for candidate in sorted(base.glob(prefix + "*")):
        if _owned_private(candidate):
            return candidate
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


def work_folder(out_dir: str | os.PathLike, work_dir: str | os.PathLike | None = None) -> Path:
    """The person-level work folder of the evaluation that writes ``out_dir``: a folder
    named for the output folder inside this user's private folder (:func:`private_parent`)
    of ``work_dir`` or of the state folder's ``work``."""
    base = Path(work_dir).expanduser() if work_dir is not None else state_dir() / "work"
    return private_parent(base) / f"{_slug(Path(out_dir).name)}-{folder_key(out_dir)}"


def make_work(path: Path) -> Path:
    """Create the work folder (0700); an existing one must be a real folder this user owns
    (a killed run's), never a link or someone else's."""
    path = Path(path)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not _owned_private(path):
            raise OutputFolderBusy(f"{path}: the work folder exists and is not this user's private folder "
                                   "(a link, or made by someone else); remove it or choose another --work-dir") from None
    os.chmod(path, 0o700)
    return path


def remove_work(path: str | os.PathLike) -> None:
    """Remove a work folder this tool made (its name is one :func:`work_folder` gives)."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
        if path.parent.name.startswith(f"reoffend-{os.getuid()}-"):
            try:
                os.rmdir(path.parent)  # the private parent, once no run uses it (only if empty)
            except OSError:
                pass


#: Written in a work folder kept on purpose (``keep_work``): the next run does not remove it.
KEPT = ".kept"


def remove_abandoned_work(*bases: Path | None) -> list[Path]:
    """Remove the work folders of runs that were killed (SIGKILL, the out-of-memory
    killer, a power cut): a folder whose output folder's lock nobody holds and that was
    not kept on purpose. Called at the start of every run, of any study."""
    removed = []
    for base in {Path(b).expanduser() for b in bases if b is not None}:
        prefix = f"reoffend-{os.getuid()}-"
        if not base.is_dir():
            continue
        for parent in (p for p in base.glob(prefix + "*") if _owned_private(p)):
            for folder in parent.iterdir():
                key = folder.name.rsplit("-", 1)[-1]
                if not _owned_private(folder) or (folder / KEPT).exists() or not re.fullmatch(r"[0-9a-f]{16}", key):
                    continue
                lock = private_dir(state_dir() / "locks") / f"{key}.lock"
                # hold that study's lock while its folder goes, so a run of it that starts now
                # waits for nothing half-removed (it refuses at once, as for any busy folder)
                fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue  # a run is using it
                try:
                    remove_work(folder)
                    removed.append(folder)
                finally:
                    os.close(fd)  # closing releases the lock
    return removed


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
