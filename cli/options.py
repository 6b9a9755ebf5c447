"""``reoffend evaluate``'s options, generated from the settings model, so that the command
line and study files name and validate every setting the same way."""

from __future__ import annotations

import datetime as dt
import inspect
import typing
from pathlib import Path
from typing import Annotated, Optional

import typer

#: Settings whose flag is not their flat name.
FLAGS = {"data_dir": "--data", "participants_file": "--participants",
         "out_dir": "--out", "programmes": "--programme", "covariates": "--covariate",
         "programme_cost_per_participant": "--programme-cost", "columns": "--column"}
#: Tables (category -> pounds) are given in a study file, not on the command line.
STUDY_FILE_ONLY = ("unit_cost_overrides",)


def _metavar(annotation) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return "|".join(typing.get_args(annotation))
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    kind = args[0]
    if typing.get_origin(kind) is typing.Literal:
        return "|".join(typing.get_args(kind))
    return {int: "N", float: "NUMBER", dt.date: "YYYY-MM-DD", Path: "DIR", str: "TEXT"}.get(kind, "VALUE")


def setting_options() -> list[inspect.Parameter]:
    """One keyword parameter per setting (flag from its flat name, help from its
    description); the values go to the settings model as given, which validates them."""
    from evaluation.settings.model import FLAT, NOT_IN_RESULTS, StudySettings

    params = []
    for flat in sorted(FLAT, key=lambda name: name not in NOT_IN_RESULTS):  # where things are, first
        if flat in STUDY_FILE_ONLY:
            continue
        section, field = FLAT[flat]
        info = (StudySettings if section is None else StudySettings.model_fields[section].annotation).model_fields[field]
        flag = FLAGS.get(flat, "--" + flat.replace("_", "-"))
        if info.annotation is bool:
            option = typer.Option(f"{flag}/--no-{flag[2:]}", help=info.description)
            kind = Optional[bool]
        elif typing.get_origin(info.annotation) in (tuple, dict):  # a dict as repeated KEY=VALUE
            metavar = "COLUMN=HEADER" if typing.get_origin(info.annotation) is dict else "NAME"
            option = typer.Option(flag, help=f"{info.description} (repeat for several)", metavar=metavar)
            kind = Optional[list[str]]
        else:
            option = typer.Option(flag, help=info.description, metavar=_metavar(info.annotation))
            kind = Optional[str]
        params.append(inspect.Parameter(flat, inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=Annotated[kind, option]))
    return params
