"""The covariates measured before each index date, and the propensity model's design matrix.

``sql/outcomes/unit_covariates.sql`` measures them strictly before the index date (only
offences proven before it count). Counts enter the propensity model as log(1 + x) so a
few very prolific people do not dominate it; balance is reported on the raw scale.
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: name -> plain-English label. Every name is a column of unit_covariates.
COVARIATE_LABELS: dict[str, str] = {
    "age_at_index": "age at index date",
    "female": "female",
    "mappa": "MAPPA",
    "ppo": "PPO",
    "prior_offences_365": "offences in the 365 days before",
    "proven_365": "offences proven in the 365 days before",
    "prior_offences_366_730": "offences 366-730 days before",
    "prior_offences_earlier": "offences more than 730 days before",
    "prior_person": "prior offences against the person",
    "prior_property": "prior property offences",
    "prior_drugs": "prior drug offences",
    "days_since_last_offence": "days since the last offence",
    "prior_custody": "any prior custody",
    "index_quarter": "calendar quarter of the index date",
    "ogrs3": "OGRS3 risk score",
    "index_after_release": "index date follows a release from custody",
}
ALL_COVARIATES: tuple[str, ...] = tuple(COVARIATE_LABELS)

#: Which way a covariate points for reoffending: +1 when a larger value predicts more proven
#: reoffending (criminal history, custody, a risk score), -1 when less (older, female, a longer
#: time since the last offence), as in OGRS's own predictors; the rest are given no direction.
#: A poor-balance warning says from this which way an imbalance moves the estimate.
RISK_DIRECTION: dict[str, int] = {
    "prior_offences_365": 1, "proven_365": 1, "prior_offences_366_730": 1, "prior_offences_earlier": 1,
    "prior_person": 1, "prior_property": 1, "prior_drugs": 1, "prior_custody": 1, "ppo": 1, "ogrs3": 1,
    "age_at_index": -1, "female": -1, "days_since_last_offence": -1,
}

#: The default list: everything (ogrs3 is dropped automatically when the data have none).
DEFAULT_COVARIATES: tuple[str, ...] = ALL_COVARIATES

#: The prior-offence detail, for the sensitivity analysis without it.
PRIOR_OFFENCE_DETAIL: tuple[str, ...] = (
    "prior_offences_366_730", "prior_offences_earlier", "prior_person", "prior_property", "prior_drugs",
)

_LOG_SCALE = {
    "prior_offences_365", "proven_365", "prior_offences_366_730", "prior_offences_earlier",
    "prior_person", "prior_property", "prior_drugs", "days_since_last_offence",
}


def usable_covariates(frame: pl.DataFrame, names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split the requested covariates into those the data can support and those dropped
    (entirely missing, or constant across the study population)."""
    used, dropped = [], []
    for name in names:
        col = frame[name]
        (dropped if col.null_count() == frame.height or _constant(col.drop_nulls()) else used).append(name)
    return used, dropped


def _constant(values: pl.Series) -> bool:
    """Fewer than two distinct values: for numbers without NaN, the minimum is the maximum
    (no hashing of half a million values); otherwise by counting them."""
    if values.dtype.is_numeric() and not (values.dtype.is_float() and values.is_nan().any()):
        return values.min() == values.max()
    return values.n_unique() < 2


#: Age thresholds in the propensity model (each an indicator of being younger).
AGE_BANDS: tuple[int, ...] = (18, 21, 25)


def design_matrix(frame: pl.DataFrame, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Columns for the propensity model: log(1 + x) for counts and days; age, age squared
    (centred) and the age bands criminal justice uses (under 18: youth justice; under 21:
    young adults; under 25), so that a referral rule with an age threshold, which a smooth
    curve cannot follow, is matched on; and for a covariate with missing values the
    mean-filled value and a missing indicator."""
    columns, labels = [], []
    for name in names:
        x = frame[name].cast(pl.Float64).to_numpy()  # a view of the column's memory when it has no nulls
        missing = np.isnan(x)
        if missing.any():
            x = x.copy()
            x[missing] = np.nanmean(x)
        if name in _LOG_SCALE:
            x = np.log1p(np.maximum(x, 0))
        columns.append(x)
        labels.append(name)
        if name == "age_at_index":
            centred = x - x.mean()
            columns.append(centred**2 / 100.0)
            labels.append("age_at_index_squared")
            for band in AGE_BANDS:
                below = (x < band).astype(float)
                if 0 < below.mean() < 1:  # a band nobody (or everybody) is in adds nothing
                    columns.append(below)
                    labels.append(f"age_at_index_under_{band}")
        if missing.any():
            columns.append(missing.astype(float))
            labels.append(f"{name}_missing")
    return np.column_stack(columns), labels
