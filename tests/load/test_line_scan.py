"""The line scan counts every line apart from the CSV reader."""

from __future__ import annotations

from evaluation.load.line_scan import NUL_BYTE, UNBALANCED_QUOTE, scan_lines, too_long


def test_blank_bad_and_long_lines_are_found_by_number(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'a,b\n1,2\n\n3,"x\n4,\x005\n' + b"9," + b"x" * 100 + b"\n6,7\n")
    scan = scan_lines(path, max_line=50)
    assert scan.lines == 7 and scan.blank == [3]
    assert scan.bad == {4: UNBALANCED_QUOTE, 5: NUL_BYTE, 6: too_long(50)}
    assert scan.data_lines == 5
