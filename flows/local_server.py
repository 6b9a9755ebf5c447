"""A temporary local Prefect server that cannot outlive the command that started it.

Prefect starts its own temporary server as a child process when no PREFECT_API_URL is
set, and stops it at exit; but a command killed with SIGKILL (or by the out-of-memory
killer) runs no exit handler, and that server, about 190 MB, runs on with PID 1 as its
parent. Here the command starts the same server itself (uvicorn over Prefect's app, on a
free loopback port) with Linux's parent-death signal set, so the kernel sends it SIGTERM
the moment the command dies, however it dies; Ctrl-C and normal exits stop it at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from evaluation.errors import ReoffendError

_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> Callable[[], None]:
    def preexec() -> None:  # runs in the child, between fork and exec
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)
    return preexec


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def supervised_server(*, timeout: float = 120.0) -> Iterator[str | None]:
    """Start a temporary Prefect server bound to this process's life and point
    PREFECT_API_URL at it; yield its URL. With PREFECT_API_URL already set, start nothing."""
    if os.environ.get("PREFECT_API_URL"):
        yield None
        return
    import httpx

    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=_die_with(os.getpid()),
    )
    try:
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while True:
                if proc.poll() is not None:
                    detail = (proc.stderr.read() or b"").decode(errors="replace").strip().splitlines()[-1:] or [""]
                    raise ReoffendError(f"the temporary Prefect server exited at start ({detail[0]}); "
                                        "run with --verbose, or start one with `prefect server start`")
                try:
                    if client.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise ReoffendError(f"the temporary Prefect server did not start within {timeout:.0f} s; "
                                        "start one with `prefect server start` and set PREFECT_API_URL")
                time.sleep(0.2)
        os.environ["PREFECT_API_URL"] = url
        yield url
    finally:
        if os.environ.get("PREFECT_API_URL") == url:
            del os.environ["PREFECT_API_URL"]
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
