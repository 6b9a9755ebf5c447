"""Run inside .venv-acro (acro 1.0.2 and pandas 2.3), never the project's environment: it
imports only pandas and acro. Reads the microdata CSVs the test wrote, makes the partner
tables again through SACRO's acro output checker, and writes acro's verdict on each cell.

Usage: python acro_worker.py MICRODATA_DIR OUT.json
"""

import json
import sys
from pathlib import Path

import pandas as pd
from acro import ACRO


def verdicts(session: ACRO, table: pd.DataFrame, name: str) -> dict:
    record = session.results.results[f"output_{len(session.results.results) - 1}"]
    cells = {check: [[str(table.index[i]), str(table.columns[j])] for i, j in where]
             for check, where in record.sdc["cells"].items() if where}
    values = {f"{row}|{col}": (None if pd.isna(v) else float(v))
              for row, series in table.iterrows() for col, v in series.items()}
    return {"name": name, "status": record.status, "summary": record.summary, "flagged": cells, "values": values}


def main(folder: Path, out: Path) -> None:
    offences = pd.read_csv(folder / "offences_by_person.csv")  # unit_id, category, period, offences
    people = pd.read_csv(folder / "participants.csv")  # unit_id, programme, reoffended
    session = ACRO(suppress=False)
    made = []
    table = session.pivot_table(offences, index="category", columns="period", values="offences", aggfunc="sum")
    made.append(verdicts(session, table, "offences by category"))
    table = session.crosstab(people["programme"], people["reoffended"])
    made.append(verdicts(session, table, "participants by programme and reoffending"))
    out.write_text(json.dumps({"threshold": session.config["safe_threshold"], "tables": made}, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
