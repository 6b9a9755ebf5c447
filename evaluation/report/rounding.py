"""Keyed random rounding: the partner view's protection against arithmetic within an
output and across outputs (docs/security.md, "Partner outputs").

Every count a partner sees is rounded to a multiple of the base ``b`` (the suppression
threshold, default 5): a count ``n = q*b + r`` becomes ``(q+1)*b`` with probability
``r/b`` and ``q*b`` otherwise. This is unbiased random rounding, the method of Statistics
New Zealand's tables (random rounding to base 3) and of ONS's 2001 Census small-area tables;
every published count is consistent with ``b`` true values (``v - b + 1`` to ``v + b - 1``),
so no count from 1 to ``b - 1`` can be told from 0 or ``b``, and a difference of two
published counts never gives the difference of the true ones.

The random numbers are not random at run time. As in the cell-key method of ONS's 2021
Census tables (and the ABS's before it), each cell's draw is a keyed hash: here of the
cell's name and a digest of the *exact* results the view is made from, keyed with a secret
(:func:`disclosure_key`). So

- the same data and settings always give the same partner output (a re-run, a scheduled
  run on an unchanged extract, an evaluator reproducing it with the same key);
- any change at all, one person added or removed, one offence more, draws every cell
  afresh, so subtracting last month's report from this month's gives noise, not a person.
  (ONS keys each cell on its members, so a cell a change did not touch keeps its value;
  keying on the whole output also hides *which* cells a removed person was in.)
- without the key, nobody can recompute the draws, even knowing every other record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
from pathlib import Path

from evaluation.errors import SettingsError

KEY_ENV = "REOFFEND_DISCLOSURE_KEY"
_KEY_FILE = "disclosure.key"


def disclosure_key() -> bytes:
    """The secret that keys the rounding: ``$REOFFEND_DISCLOSURE_KEY`` (at least 32
    characters; give every machine that must reproduce a partner output the same one), else
    a random key made once in the private state folder (0600) and kept there."""
    given = os.environ.get(KEY_ENV)
    if given is not None:
        if len(given) < 32 or len(set(given)) < 8:
            raise SettingsError(f"{KEY_ENV} must be at least 32 characters and not repetitive (for example the "
                                "output of `python3 -c 'import secrets; print(secrets.token_hex(32))'`)")
        return given.encode()
    from evaluation.files.workspace import state_dir

    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / _KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    made = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:  # another run made it first
        return _read_key(path)
    with os.fdopen(fd, "wb") as f:
        f.write(made)
    return made


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        key = f.read(256).strip()
    if len(key) < 32:
        raise SettingsError(f"{path}: the disclosure key is damaged; remove the file to make a new one "
                            f"(partner outputs made with the old key will then not reproduce)")
    return key


def key_id(key: bytes) -> str:
    """A short public name of a key (which key made an output), from which the key cannot be worked out."""
    return hmac.new(key, b"reoffend disclosure key id", hashlib.sha256).hexdigest()[:12]


class KeyedRounding:
    """Random rounding to ``base`` with each cell's draw fixed by ``key`` and the exact results.

    Parameters
    ----------
    base : the rounding base (every count becomes a multiple of it).
    key : the secret (:func:`disclosure_key`).
    exact : the exact results the view is made from; their digest seeds every draw.

    Examples
    --------
    >>> r = KeyedRounding(5, b"k" * 32, {"n": 3})
    >>> r.count("n", 3) in (0, 5)
    True
    >>> r.count("n", 3) == r.count("n", 3)
    True
    """

    def __init__(self, base: int, key: bytes, exact: dict) -> None:
        if not isinstance(base, int) or base < 2:
            raise SettingsError("the rounding base (suppression threshold) must be a whole number of at least 2")
        self.base = base
        digest = hashlib.sha256(json.dumps(exact, sort_keys=True, default=str).encode()).digest()
        self._seed = hmac.new(key, digest, hashlib.sha256).digest()
        self.rounded: dict[str, float] = {}

    def draw(self, cell: str) -> float:
        """The cell's uniform number in [0, 1), the same for the same cell and results."""
        h = hmac.new(self._seed, cell.encode(), hashlib.sha256).digest()
        return int.from_bytes(h[:8], "big") / 2.0**64

    def count(self, cell: str, value: float, base: int | None = None) -> int:
        """``value`` (a count, a weighted count, or a difference of counts) randomly rounded to a
        multiple of the base."""
        b = base or self.base
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return value
        value = float(value)  # a difference (offences avoided) may be negative: rounded the same way
        down = b * math.floor(value / b + 1e-12)
        up_probability = (value - down) / b
        out = int(down + b) if self.draw(cell) < up_probability - 1e-12 else int(down)
        self.rounded[cell] = out
        return out


def significant(value: float | None, digits: int = 3) -> float | None:
    """A model statistic coarsened to ``digits`` significant figures."""
    if value is None or not isinstance(value, (int, float)) or isinstance(value, bool) or value == 0:
        return value
    if not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def p_value(p: float | None) -> float | None:
    """A p-value to 3 decimal places, and none below 0.001 (its exact size is the test
    statistic, which is a function of the counts)."""
    if p is None or not isinstance(p, (int, float)):
        return p
    return 0.001 if p < 0.001 else round(float(p), 3)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """A share, rate or mean recomputed from rounded counts (None when the base is 0)."""
    if numerator is None or denominator in (None, 0):
        return None
    return numerator / denominator
