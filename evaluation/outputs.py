"""Writing an evaluation's output folder atomically.

The new folder is written beside the old one and swapped in with renames, so a failed
run leaves no half-written output and the previous outputs stay as they were.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from evaluation.safe_files import private_dir


def write_outputs(out_dir: str | os.PathLike, files: Mapping[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> content) as the whole of ``out_dir``."""
    out_dir = Path(out_dir)
    private_dir(out_dir.parent)
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
        old = None
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.rmdir(old)
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
