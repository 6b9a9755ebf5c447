"""Synthetic councils for the evidence-library demo: the Southampton-like scenario at
other sizes, true effects, seeds and years. The places are fictional (Southampton's own
evaluation is the main demo); each one's true effect is in its data folder's truth.json."""

from __future__ import annotations

import dataclasses
import datetime as dt

from synthetic_data.generator import SOUTHAMPTON, Scenario


@dataclasses.dataclass(frozen=True)
class DemoCouncil:
    council: str
    programme_type: str
    setting: str
    people: int
    participants: int
    effect: float
    seed: int
    years_later: int  # the whole timeline moved this many years on

    @property
    def name(self) -> str:
        return f"{self.council.lower()}_{self.programme_type}"

    @property
    def title(self) -> str:
        return f"{self.council} {self.programme_type} programme"

    def scenario(self) -> Scenario:
        def later(day: dt.date) -> dt.date:
            return day.replace(year=day.year + self.years_later)

        base = SOUTHAMPTON
        return dataclasses.replace(base, name=self.name, people=self.people, participants=self.participants,
                                   effect=self.effect, history_start=later(base.history_start),
                                   referral_start=later(base.referral_start), referral_end=later(base.referral_end),
                                   extract_date=later(base.extract_date))


#: Four employment evaluations (Southampton's among them, with a true 10% fall each) and
#: three mentoring ones (no effect, no effect, 5%): the library pools each type.
DEMO_COUNCILS: tuple[DemoCouncil, ...] = (
    DemoCouncil("Northgate", "employment", "community", 18_000, 500, 0.10, 11, 3),
    DemoCouncil("Riverside", "employment", "custody", 14_000, 400, 0.10, 12, 6),
    DemoCouncil("Eastmoor", "employment", "community", 20_000, 600, 0.10, 13, 9),
    DemoCouncil("Westbridge", "mentoring", "community", 14_000, 400, 0.0, 14, 0),
    DemoCouncil("Hillcrest", "mentoring", "community", 16_000, 450, 0.0, 15, 4),
    DemoCouncil("Lakeside", "mentoring", "custody", 12_000, 350, 0.05, 16, 8),
)
