"""Atomic, owner-only writes (one helper for every file the tool writes whole)."""

from __future__ import annotations

import stat

import pytest

from evaluation.files.atomic import atomic_write_text, atomic_write_with


def test_a_file_is_replaced_whole_and_owner_only(tmp_path):
    target = tmp_path / "new" / "results.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert [p.name for p in tmp_path.joinpath("new").iterdir()] == ["results.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")

    def half(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write_with(target, half)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
