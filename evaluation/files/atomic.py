"""Files and folders readable by their owner only, written atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; every folder this creates, parents
    included, is mode 0700 (mkdir's mode is masked by the umask, and ``parents=True``
    makes the parents with the default mode)."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another run
            continue
        os.chmod(folder, 0o700)
    return path


def private_file(path: Path) -> None:
    """Make an existing file readable and writable by its owner only (0600)."""
    os.chmod(path, 0o600)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, flushed to disk, readable by its owner only."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, 0o600)


def atomic_write_with(path: Path, write: Callable[[Path], None]) -> None:
    """Have ``write(tmp)`` write a temporary file beside ``path``, then put it in place by
    a rename, owner-only: a reader sees the old file or the new one, never half of it."""
    path = Path(path)
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write_with`)."""
    atomic_write_with(path, lambda tmp: write_private(tmp, data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
