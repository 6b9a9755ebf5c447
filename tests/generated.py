"""Small generated data folders for module fixtures (a helper module, not a conftest: importing
a conftest again would run its settings again)."""

from __future__ import annotations

from pathlib import Path


def generated(tmp_path_factory, name: str, *, people: int, participants: int, seed: int) -> Path:
    """A small Southampton-like data folder, for a module's fixture."""
    from dataclasses import replace

    from synthetic_data import SOUTHAMPTON, generate

    folder = tmp_path_factory.mktemp(name) / "data"
    generate(replace(SOUTHAMPTON, people=people, participants=participants), folder, seed=seed)
    return folder
