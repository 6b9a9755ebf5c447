"""Write the malformed-input corpus in tests/data/bad/ (run from the repository root).

Each case is a data folder built from a tiny, obviously artificial base (people P1-P4)
with one thing wrong, and an expect.json saying what the loader must do: a file-level
error naming the file (and column), or rows rejected with reasons. Every table must
reconcile: read = loaded + rejected. The 10 MB single-line case is made at test time
(tests/test_bad_input.py) rather than committed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl

BAD = Path(__file__).parent / "bad"

PEOPLE = "person_id,birth_year,sex,mappa,ppo\nP1,1980,M,N,N\nP2,1985,F,N,Y\nP3,1990,M,Y,N\nP4,1975,U,,\n"
OFFENCES = (
    "person_id,offence_date,outcome_date,category,disposal,custody_days\n"
    "P1,2009-01-10,2009-02-20,theft,fine,\n"
    "P2,2009-03-05,2009-05-01,violence,custody,60\n"
    "P3,2009-06-01,2009-06-15,drugs,caution,\n"
    "P4,2010-01-01,2010-03-01,burglary,community,\n"
)
PARTICIPANTS = "person_id,programme,start_date,end_date\nP1,OLASS,2009-03-01,2009-09-01\nP2,Exodus,2009-06-01,\n"
CUSTODY = "person_id,custody_start,custody_end\nP2,2009-05-01,2009-06-30\n"
BASE = {"people.csv": PEOPLE, "offences.csv": OFFENCES, "participants.csv": PARTICIPANTS}


def file_error(file: str, message: str, column: str | None = None) -> dict:
    return {"kind": "file_error", "file": file, "column": column, "message": message}


def rows(rejected: dict[str, int], *reasons: str) -> dict:
    return {"kind": "rows", "rejected": rejected, "reasons": list(reasons)}


def replace_line(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


CASES: dict[str, tuple[dict[str, str | bytes | None], dict]] = {
    "semicolon_delimiter": ({"people.csv": PEOPLE.replace(",", ";")},
                            file_error("people.csv", "separated by commas", "person_id")),
    "tab_delimiter": ({"offences.csv": OFFENCES.replace(",", "\t")},
                      file_error("offences.csv", "separated by commas", "person_id")),
    "byte_order_mark": ({"people.csv": "\ufeff" + PEOPLE}, rows({})),
    "crlf_line_endings": ({"offences.csv": OFFENCES.replace("\n", "\r\n")}, rows({})),
    "trailing_blank_lines": ({"offences.csv": OFFENCES + "\n\n\n"}, rows({})),
    "mixed_date_formats": ({"offences.csv": replace_line(replace_line(OFFENCES, "2009-01-10", "10/01/2009"),
                                                          "2009-06-01", "2009/06/01")},
                           rows({"offences": 2}, "not a real date in YYYY-MM-DD form")),
    "impossible_dates": ({"offences.csv": replace_line(replace_line(OFFENCES, "2009-02-20", "2009-02-30"),
                                                        "2009-06-15", "2009-13-15")},
                         rows({"offences": 2}, "'2009-02-30' is not a real date", "'2009-13-15' is not a real date")),
    "dates_before_1900": ({"offences.csv": replace_line(OFFENCES, "2009-01-10", "1899-12-31")},
                          rows({"offences": 1}, "before 1900")),
    "outcome_before_offence": ({"offences.csv": replace_line(OFFENCES, "2009-02-20", "2008-12-01")},
                               rows({"offences": 1}, "before offence_date")),
    # One record per line: a quoted field may not span lines, so both lines are rejected
    # (a stray quote can then never make the reader swallow the lines after it).
    "quoted_newline_in_field": ({"participants.csv": replace_line(PARTICIPANTS, "OLASS", '"OLASS\nnorth"')},
                                rows({"participants": 2}, "a quote is opened and not closed")),
    "stray_quote_mid_file": ({"people.csv": PEOPLE.replace("P2,1985,F,N,Y", 'P2,1985,F,N,"Y', 1)
                              .replace("P4,1975,U,,", 'P4,1975,U,"",', 1)},
                             rows({"people": 1, "offences": 1, "participants": 1},
                                  "a quote is opened and not closed", "not in people")),
    "huge_field": ({"people.csv": "person_id,birth_year,sex,ethnicity\n" + "P1,1980,M," + "x" * 200_000
                    + "\nP2,1985,F,\nP3,1990,M,\nP4,1975,U,\n"}, rows({})),
    "wrong_types": ({"people.csv": replace_line(PEOPLE, "P3,1990", "P3,nineteen ninety")},
                    rows({"people": 1, "offences": 1, "participants": 0}, "not a whole number",
                         "its person was rejected in people: birth_year")),
    "duplicate_headers": ({"offences.csv": OFFENCES.replace("category,disposal", "category,category", 1)},
                          file_error("offences.csv", "appears twice", "category")),
    "missing_table": ({"participants.csv": None}, file_error("participants.csv", "required table 'participants' is missing")),
    "empty_table_zero_bytes": ({"offences.csv": ""}, file_error("offences.csv", "file is empty")),
    "header_only_required_table": ({"participants.csv": "person_id,programme,start_date\n"},
                                   file_error("participants.csv", "header but no rows")),
    "header_only_optional_custody": ({"custody.csv": "person_id,custody_start,custody_end\n"}, rows({})),
    "missing_required_column": ({"offences.csv": "person_id,offence_date,category\nP1,2009-01-10,theft\n"},
                                file_error("offences.csv", "required column is missing", "outcome_date")),
    "non_utf8_in_body": ({"people.csv": (PEOPLE + "P5,1980,M,N,N\n").encode().replace(b"P5", b"P\xe95")},
                         file_error("people.csv", "not valid UTF-8")),
    "non_utf8_in_header": ({"people.csv": b"person_id,birth_year,s\xe9x\n" + PEOPLE.encode().split(b"\n", 1)[1]},
                           file_error("people.csv", "not valid UTF-8")),
    "nul_bytes_in_header": ({"people.csv": PEOPLE.replace("sex", "s\x00x", 1).encode()},
                            file_error("people.csv", "NUL bytes")),
    "too_many_fields": ({"offences.csv": replace_line(OFFENCES, "theft,fine,\n", "theft,fine,,extra,more\n")},
                        rows({"offences": 1}, "more fields than the header")),
    "too_few_fields": ({"offences.csv": replace_line(OFFENCES, "P3,2009-06-01,2009-06-15,drugs,caution,\n",
                                                     "P3,2009-06-01\n")},
                       rows({"offences": 1}, "fewer fields than the header")),
    "unterminated_quote": ({"offences.csv": OFFENCES.replace("P4,2010-01-01", 'P4,"2010-01-01', 1)},
                           rows({"offences": 1}, "")),
    "unknown_person": ({"offences.csv": OFFENCES + "P9,2009-01-01,2009-02-01,theft,,\n",
                        "participants.csv": PARTICIPANTS + "P9,OLASS,2009-04-01,\n"},
                       rows({"offences": 1, "participants": 1}, "'P9' is not in people")),
    "duplicate_person_id": ({"people.csv": PEOPLE + "P1,1999,F,N,N\n"}, rows({"people": 1}, "duplicate person_id")),
    "negative_custody_days": ({"offences.csv": replace_line(OFFENCES, "custody,60", "custody,-60")},
                              rows({"offences": 1}, "is negative")),
    "custody_end_before_start": ({"custody.csv": CUSTODY.replace("2009-06-30", "2009-04-01")},
                                 rows({"custody": 1}, "before custody_start")),
    "under_ten_at_offence": ({"people.csv": PEOPLE.replace("P4,1975", "P4,2001")},
                             rows({"offences": 1}, "under 10")),
    "unknown_category_and_sex": ({"offences.csv": replace_line(OFFENCES, "drugs", "shoplifting"),
                                  "people.csv": PEOPLE.replace("P4,1975,U", "P4,1975,X")},
                                 rows({"offences": 2, "people": 1}, "not a known offence category", "not one of M, F, U")),
    "both_csv_and_parquet": ({"people.parquet": "PARQUET_COPY_OF_PEOPLE"},
                             file_error("people.csv", "people.parquet is there too")),
    "parquet_wrong_column_types": ({"offences.csv": None, "offences.parquet": "PARQUET_BOOLEAN_DATES"},
                                   file_error("offences.parquet", "has Parquet type bool", "offence_date")),
    "binary_garbage_as_parquet": ({"custody.parquet": b"\x00\x01not parquet at all\xff"},
                                  file_error("custody.parquet", "not a readable Parquet file")),
    "extra_unknown_columns_and_reordered": ({"people.csv": "sex,notes,person_id,birth_year\n"
                                                           "M,a,P1,1980\nF,b,P2,1985\nM,c,P3,1990\nU,d,P4,1975\n"},
                                            rows({})),
    "whitespace_and_case": ({"people.csv": PEOPLE.replace("P1,1980,M", " P1 , 1980 , m ").replace("N,N", " no , NO ", 1),
                             "offences.csv": replace_line(OFFENCES, "theft", " Theft ")}, rows({})),
}


def write_case(name: str, changes: dict, expect: dict) -> None:
    folder = BAD / name
    folder.mkdir(parents=True)
    files: dict[str, str | bytes | None] = {**BASE, **changes}
    if name in ("custody_end_before_start",):
        files.setdefault("custody.csv", CUSTODY)
    for fname, content in files.items():
        if content is None:
            continue
        path = folder / fname
        if content == "PARQUET_COPY_OF_PEOPLE":
            pl.read_csv(folder / "people.csv").write_parquet(path)
        elif content == "PARQUET_BOOLEAN_DATES":
            pl.DataFrame({"person_id": ["P1"], "offence_date": [True], "outcome_date": [True],
                          "category": ["theft"]}).write_parquet(path, statistics=False)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    (folder / "expect.json").write_text(json.dumps(expect, indent=2) + "\n")


def main() -> None:
    shutil.rmtree(BAD, ignore_errors=True)
    for name, (changes, expect) in CASES.items():
        write_case(name, changes, expect)
    print(f"wrote {len(CASES)} cases to {BAD}")


if __name__ == "__main__":
    main()
