"""Writing an evaluation's output folder atomically, and one run at a time.

The new folder is written beside the old one (``.<name>.new-*``) and swapped in with one
atomic exchange (Linux ``renameat2(RENAME_EXCHANGE)``), so at every instant ``out_dir``
holds either the complete previous outputs or the complete new ones: a run killed at any
point leaves no partial file in it. Leftover staging folders from a killed run are
removed by the next run. Where the exchange is not available, two renames are used (a
crash between them leaves the old folder as ``.<name>.old-*``, restored by the next run).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from evaluation.errors import ReoffendError
from evaluation.safe_files import private_dir

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


def _tidy(out_dir: Path) -> None:
    """Remove staging folders left by a killed run; restore an old folder if out_dir vanished."""
    old = sorted(out_dir.parent.glob(f".{out_dir.name}.old-*"))
    if old and not out_dir.exists():
        os.replace(old[-1], out_dir)
        old = old[:-1]
    for leftover in [*out_dir.parent.glob(f".{out_dir.name}.new-*"), *old]:
        shutil.rmtree(leftover, ignore_errors=True)


def write_outputs(out_dir: str | os.PathLike, files: Mapping[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> content) as the whole of ``out_dir``."""
    out_dir = Path(out_dir)
    private_dir(out_dir.parent)
    _tidy(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        os.chmod(staging, 0o700)
        for rel, content in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(target, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(target, 0o600)
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


@contextmanager
def run_lock(out_dir: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock for an evaluation writing ``out_dir`` (and its work folder).
    A second evaluation of the same folder fails at once with a clear message."""
    out_dir = Path(out_dir)
    private_dir(out_dir.parent)
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise ReoffendError(
                f"{out_dir}: another evaluation (pid {holder}) is writing this output folder; "
                "wait for it to finish or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
