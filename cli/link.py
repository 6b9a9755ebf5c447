"""``reoffend link``: a council's participant list linked to the police extract's identified
people, on the data holder's side, before pseudonymisation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.app import Quiet, app, say


@app.command()
def link(list_file: Annotated[Path, typer.Argument(metavar="LIST", help="the council's participant list: CSV or .xlsx")],
         people: Annotated[Path, typer.Option(help="the police extract's identified people (person_id, forename, "
                                                   "surname, date_of_birth, sex, postcode)")],
         out: Annotated[Path, typer.Option(help="new folder for participants.csv, linkage.json and the clerical "
                                                "review (which holds names: it stays there)")],
         column: Annotated[Optional[list[str]], typer.Option(
             metavar="FIELD=HEADER", help="which header of the list is which field, e.g. forename='First Name' "
                                          "(repeat for several; 'Date of Birth' needs none)")] = None,
         people_column: Annotated[Optional[list[str]], typer.Option(
             metavar="FIELD=HEADER", help="which header of the identified people is which field, e.g. "
                                          "person_id='PNC ID'")] = None,
         date_format: Annotated[str, typer.Option(help="how the files write their dates: YYYY-MM-DD, DD/MM/YYYY, "
                                                       "DD-MM-YYYY, DD.MM.YYYY or MM/DD/YYYY (ISO dates are "
                                                       "always read)")] = "YYYY-MM-DD",
         threshold: Annotated[float, typer.Option(help="match probability a link needs (higher: fewer wrong links, "
                                                       "more people not identified)")] = 0.9,
         seed: Annotated[int, typer.Option(help="seed of the random pairs u is estimated from")] = 1,
         quiet: Quiet = False) -> None:
    """Link a participant list to identified people by name, date of birth, sex and postcode
    (splink), and write the participants table an evaluation reads."""
    from evaluation.errors import SettingsError
    from evaluation.link.fields import IDENTIFIED, LIST
    from evaluation.link.linkage import PARTICIPANTS_FILE, link_list
    from evaluation.load.contract import DATE_FORMATS
    from evaluation.settings.model import checked_column_map, column_pairs

    if date_format not in DATE_FORMATS:
        raise SettingsError(f"--date-format must be one of {', '.join(DATE_FORMATS)}")
    maps = {}
    for flag, given, table in (("--column", column, LIST), ("--people-column", people_column, IDENTIFIED)):
        try:
            maps[flag] = checked_column_map(column_pairs(given or []), frozenset(table.column_names),
                                            f"a field of {table.description.split(':')[0].lower()} "
                                            f"({', '.join(table.column_names)})")
        except ValueError as exc:
            raise SettingsError(f"{flag}: {exc}") from None
    result = link_list(list_file, people, out, columns=maps["--column"], people_columns=maps["--people-column"],
                       date_format=date_format, threshold=threshold, seed=seed, progress=say(quiet))
    print(result.summary())
    print(f"next: reoffend evaluate --data POLICE_EXTRACT --participants {result.out_dir / PARTICIPANTS_FILE} ...; "
          "share nothing else from this folder")
