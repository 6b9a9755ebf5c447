"""Property-based tests: corrupt generated tables at random; the loader either loads with
every table reconciled (read = loaded + rejected) or stops with a clear file-level error,
and never crashes with a traceback."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation import DataFileError, load_data

BAD = Path(__file__).parents[1] / "data" / "bad"
BASE = BAD / "crlf_line_endings"  # a valid folder
TABLES = ["people.csv", "offences.csv", "participants.csv"]

nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(['"', '""', ",", "\n", "\r\n", "\x00", "\ufeff", "2010-02-30", "1899-01-01", "-5", "NaN",
                     "yes", "P1", "P999", "9" * 40, "\t", ";", "é", "\\", "'); DROP TABLE offences; --"]),
)


@st.composite
def corruption(draw):
    table = draw(st.sampled_from(TABLES))
    kind = draw(st.sampled_from(["replace_cell", "insert_text", "delete_line", "duplicate_line", "truncate", "raw_bytes"]))
    return table, kind, draw(nasty_text), draw(st.integers(0, 10_000)), draw(st.binary(max_size=20))


def corrupt(text: str, kind: str, value: str, position: int, raw: bytes) -> bytes:
    lines = text.split("\n")
    i = position % len(lines)
    if kind == "replace_cell":
        cells = lines[i].split(",")
        cells[position % len(cells)] = value
        lines[i] = ",".join(cells)
    elif kind == "insert_text":
        at = position % (len(text) + 1)
        return (text[:at] + value + text[at:]).encode("utf-8", "surrogatepass")
    elif kind == "delete_line":
        del lines[i]
    elif kind == "duplicate_line":
        lines.insert(i, lines[i])
    elif kind == "truncate":
        return text[: position % (len(text) + 1)].encode()
    elif kind == "raw_bytes":
        data = text.encode()
        at = position % (len(data) + 1)
        return data[:at] + raw + data[at:]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(corruption(), min_size=1, max_size=3))
def test_corrupted_inputs_reconcile_or_fail_cleanly(corruptions):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        shutil.copytree(BASE, folder)
        (folder / "expect.json").unlink()
        for table, kind, value, position, raw in corruptions:
            path = folder / table
            path.write_bytes(corrupt(path.read_bytes().decode("utf-8", "replace"), kind, value, position, raw))
        try:
            report = load_data(folder, Path(tmp) / "db" / "eval.duckdb")
        except DataFileError as err:
            assert err.file, err  # a file-level error always names the file
            return
        for name, counts in report.tables.items():
            assert counts.read == counts.loaded + counts.rejected, (name, counts)
