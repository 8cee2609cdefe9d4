"""Assessment cycles: the yearly deadlines of a standard, and where each hospital stands.

The model (`Cycle`, `MonthDay`) is read from `[[cycles]]` by `hqsync.config.calendar_settings`;
`models.cycles` reads the inputs (`CycleHospital`, `CycleAssessment`) from the store. Pure: the
day is given (`today`, a local date in the schedule's time zone), never read from a clock.

The current cycle on `today` is the one whose deadlines fall in today's year Y. Its assessments
are those dated in Y (their assessed_on, else the row's updated_at, else when hqsync first saw
it); with `covers = "previous_year"` they are about Y-1 (the covered year). An assessment
belongs to a cycle when its standard resolves (rule sets' ids and aliases) to the cycle's. Per
kind (self, council) a hospital has submitted (the date of its first non-draft assessment),
only drafts, or nothing; drafts never count. A cycle applies to a hospital that is listed (not
deleted), not inactive, not in `exclude`, and, with `applies_when`, whose Hospitals-tab column
of that name is yes; the others are left out, never shown as late.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cached_property
from types import MappingProxyType
from typing import Any

from hqsync.config.errors import ConfigError
from hqsync.config.vocabulary import (
    YES_NO_WORDS,
    AssessmentKind,
    Covers,
    DueState,
    Status,
    Submission,
    fold,
)
from hqsync.scoring.ruleset import RuleSet, resolve_standard

StandardResolver = Callable[[str], str | None]
"""A standard as typed ("QĐ 6858") → the id of the rule set it names, or None."""

_YES = frozenset(fold(word) for word in YES_NO_WORDS[True])
_URGENCY = {DueState.OVERDUE: 0, DueState.DUE_SOON: 1}
"""Rank of a hospital's most urgent deadline when listing progress: overdue, due soon, the rest."""


@dataclass(frozen=True)
class MonthDay:
    """A yearly deadline, e.g. 30 November; 29 February falls on the 28th in common years."""

    month: int
    day: int

    def in_year(self, year: int) -> date:
        """This deadline's date in `year`."""
        last = calendar.monthrange(year, self.month)[1]
        return date(year, self.month, min(self.day, last))

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class Cycle:
    """One `[[cycles]]` entry: the yearly deadlines of one standard the council runs."""

    standard: str
    """The standard as written (an id or alias); matched against the rule sets when used."""
    self_due: MonthDay
    council_due: MonthDay | None = None
    """None: the council does not assess this standard on a calendar."""
    covers: Covers = Covers.CURRENT_YEAR
    applies_when: str | None = None
    """A Hospitals-tab column (yes/no) that must be yes for the cycle to apply to a hospital;
    None: it applies to every active hospital."""
    exclude: tuple[str, ...] = ()
    """Hospital ids the cycle never applies to."""


@dataclass(frozen=True)
class CycleHospital:
    """One Hospitals-tab row, as far as cycles care. A hospital listed by several sources has
    one row per source: it is listed while any row is live, inactive when a live row says so,
    and an `applies_when` column is yes when a live row says yes."""

    hospital_id: str
    name: str = ""
    active: bool | None = None
    """False: the hospital no longer operates (no cycle applies); None: not said."""
    deleted: bool = False
    columns: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Column (a field name or a header, matched with `fold`) → its cell; only the columns a
    cycle's `applies_when` names are needed."""


@dataclass(frozen=True)
class CycleAssessment:
    """One live assessment, as far as cycles care."""

    hospital_id: str
    standard: str
    """As typed in the sheet; resolved to a rule set's id."""
    kind: AssessmentKind
    status: Status
    dated: date | None
    """Its assessed_on, else the local date of the row's updated_at, else of its first sight."""


@dataclass(frozen=True)
class HospitalCycle:
    """Where one hospital stands in the current cycle of one standard."""

    hospital_id: str
    standard: str
    """The rule set's id."""
    year: int
    """The year the deadlines fall in (today's)."""
    covered_year: int
    """The year the assessments are about (`year`, or the year before)."""
    self_state: Submission
    self_on: date | None
    """The date of the first non-draft self-assessment of the cycle."""
    self_due: date
    council_state: Submission | None
    """None: the cycle has no council deadline."""
    council_on: date | None
    council_due: date | None
    name: str = ""
    """The hospital's name (its id when it has none)."""

    @property
    def kinds(self) -> tuple[AssessmentKind, ...]:
        """The kinds of assessment this cycle has a deadline for: self, and council if due."""
        if self.council_due is None:
            return (AssessmentKind.SELF,)
        return (AssessmentKind.SELF, AssessmentKind.COUNCIL)

    def state(self, kind: AssessmentKind) -> Submission | None:
        """Submitted, draft only or missing; None for a council without a deadline."""
        return self.self_state if kind == AssessmentKind.SELF else self.council_state

    def submitted_on(self, kind: AssessmentKind) -> date | None:
        """The date of the first non-draft assessment of `kind` in the cycle."""
        return self.self_on if kind == AssessmentKind.SELF else self.council_on

    def due(self, kind: AssessmentKind) -> date | None:
        """The deadline of `kind` (None for a council without one)."""
        return self.self_due if kind == AssessmentKind.SELF else self.council_due

    def days_left(self, kind: AssessmentKind, today: date) -> int | None:
        """Days from `today` to the deadline of `kind`: 0 on the day, negative once past;
        None when the cycle has no such deadline."""
        due = self.due(kind)
        return None if due is None else (due - today).days

    def due_state(self, kind: AssessmentKind, today: date, due_soon_days: int) -> DueState:
        """Done or late once submitted; else overdue, due soon (0 ≤ days left ≤
        `due_soon_days`) or pending. Raises ValueError for a kind without a deadline (see
        `kinds`)."""
        due = self.due(kind)
        if due is None:
            raise ValueError(f"the {self.standard} cycle has no {kind} deadline")
        if self.state(kind) == Submission.SUBMITTED:
            submitted = self.submitted_on(kind)
            return DueState.LATE if submitted is not None and submitted > due else DueState.DONE
        left = (due - today).days
        if left < 0:
            return DueState.OVERDUE
        return DueState.DUE_SOON if left <= due_soon_days else DueState.PENDING

    def urgency(self, today: date, due_soon_days: int) -> int:
        """0 when a deadline is overdue, 1 when one is due soon, else 2: the order progress
        lists hospitals in."""
        states = [self.due_state(k, today, due_soon_days) for k in self.kinds]
        return min((_URGENCY.get(s, len(_URGENCY)) for s in states), default=len(_URGENCY))


@dataclass(frozen=True)
class KindCounts:
    """How many hospitals of a cycle stand where, for one kind of assessment."""

    due: date
    submitted: int = 0
    draft_only: int = 0
    missing: int = 0
    late: int = 0
    """Of the submitted, those submitted after the due date."""
    overdue: int = 0
    due_soon: int = 0

    def as_json(self) -> dict[str, Any]:
        """A plain JSON object (the due date as ISO text)."""
        return {**asdict(self), "due": self.due.isoformat()}


@dataclass(frozen=True)
class CycleCounts:
    """One cycle's progress across the hospitals it applies to."""

    standard: str
    """The rule set's id."""
    year: int
    covered_year: int
    hospitals: int
    """How many hospitals the cycle applies to."""
    self_counts: KindCounts
    council_counts: KindCounts | None
    """None: the cycle has no council deadline."""

    def of(self, kind: AssessmentKind) -> KindCounts | None:
        """The counts of one kind of assessment."""
        return self.self_counts if kind == AssessmentKind.SELF else self.council_counts

    def as_json(self) -> dict[str, Any]:
        """The `status --format json` object of one cycle."""
        return {
            "standard": self.standard,
            "year": self.year,
            "covered_year": self.covered_year,
            "hospitals": self.hospitals,
            "self": self.self_counts.as_json(),
            "council": None if self.council_counts is None else self.council_counts.as_json(),
        }


@dataclass(frozen=True)
class CycleReport:
    """The current cycles on one day: every applicable hospital's state, and the counts."""

    today: date
    due_soon_days: int
    states: tuple[HospitalCycle, ...]
    counts: tuple[CycleCounts, ...]
    """One per configured cycle, in the config's order."""

    def of_hospital(self, hospital_id: str) -> tuple[HospitalCycle, ...]:
        """One hospital's states (none when no cycle applies to it)."""
        return self._by_hospital.get(hospital_id, ())

    @cached_property
    def _by_hospital(self) -> Mapping[str, tuple[HospitalCycle, ...]]:
        grouped: dict[str, list[HospitalCycle]] = {}
        for state in self.states:
            grouped.setdefault(state.hospital_id, []).append(state)
        return {h: tuple(states) for h, states in grouped.items()}


def standard_resolver(rule_sets: Mapping[str, RuleSet]) -> StandardResolver:
    """`resolve_standard` over `rule_sets` as text → rule-set id, remembering what it saw."""
    seen: dict[str, str | None] = {}

    def resolve(text: str) -> str | None:
        if text not in seen:
            rule_set = resolve_standard(rule_sets, text)
            seen[text] = rule_set.id if rule_set is not None else None
        return seen[text]

    return resolve


def check_cycles(
    cycles: Sequence[Cycle], resolve: StandardResolver, known: Iterable[str] = ()
) -> tuple[str, ...]:
    """The rule-set id of each cycle's standard; ConfigError naming `cycles[N].standard` when
    no rule set knows it (`known`: the ids to suggest) or two cycles name one standard."""
    ids: list[str] = []
    for index, cycle in enumerate(cycles, start=1):
        standard = resolve(cycle.standard)
        if standard is None:
            hint = f"; known: {', '.join(sorted(known))}" if known else ""
            raise ConfigError(
                f"cycles[{index}].standard = {cycle.standard!r}: no rule set has that id or "
                f"alias{hint}; fix the name or add its rule set ([scoring] rule_set_dirs)"
            )
        if standard in ids:
            first = ids.index(standard) + 1
            raise ConfigError(
                f"cycles[{index}].standard = {cycle.standard!r} names the standard of "
                f"cycles[{first}] ({standard}) again: keep one cycle per standard"
            )
        ids.append(standard)
    return tuple(ids)


def cycle_states(
    cycles: Sequence[Cycle],
    hospitals: Iterable[CycleHospital],
    assessments: Iterable[CycleAssessment],
    today: date,
    resolve_standard: StandardResolver,
) -> list[HospitalCycle]:
    """Every applicable hospital's state in the current cycle of each of `cycles`, by cycle
    (the config's order) then hospital id. ConfigError when a cycle names an unknown standard."""
    standards = check_cycles(cycles, resolve_standard)
    year = today.year
    profiles = _profiles(hospitals)
    wanted = set(standards)
    first: dict[tuple[str, str, AssessmentKind], date] = {}
    drafts: set[tuple[str, str, AssessmentKind]] = set()
    for assessment in assessments:
        if assessment.dated is None or assessment.dated.year != year:
            continue
        standard = resolve_standard(assessment.standard)
        if standard not in wanted:
            continue
        key = (assessment.hospital_id, str(standard), assessment.kind)
        if assessment.status == Status.DRAFT:
            drafts.add(key)
        elif key not in first or assessment.dated < first[key]:
            first[key] = assessment.dated

    def submission(key: tuple[str, str, AssessmentKind]) -> tuple[Submission, date | None]:
        if key in first:
            return Submission.SUBMITTED, first[key]
        return (Submission.DRAFT_ONLY if key in drafts else Submission.MISSING), None

    states: list[HospitalCycle] = []
    for cycle, standard in zip(cycles, standards, strict=True):
        covered = year - 1 if cycle.covers == Covers.PREVIOUS_YEAR else year
        for hospital_id in sorted(profiles):
            profile = profiles[hospital_id]
            if hospital_id in cycle.exclude or not profile.applies(cycle):
                continue
            own, own_on = submission((hospital_id, standard, AssessmentKind.SELF))
            council: tuple[Submission | None, date | None] = (None, None)
            if cycle.council_due is not None:
                council = submission((hospital_id, standard, AssessmentKind.COUNCIL))
            states.append(
                HospitalCycle(
                    hospital_id=hospital_id,
                    standard=standard,
                    year=year,
                    covered_year=covered,
                    self_state=own,
                    self_on=own_on,
                    self_due=cycle.self_due.in_year(year),
                    council_state=council[0],
                    council_on=council[1],
                    council_due=_in_year(cycle.council_due, year),
                    name=profile.name or hospital_id,
                )
            )
    return states


def cycle_counts(
    cycles: Sequence[Cycle],
    states: Iterable[HospitalCycle],
    today: date,
    due_soon_days: int,
    resolve_standard: StandardResolver,
) -> list[CycleCounts]:
    """Each cycle's counts over `states` on `today` (a cycle no hospital is in counts 0)."""
    by_standard: dict[str, list[HospitalCycle]] = {}
    for state in states:
        by_standard.setdefault(state.standard, []).append(state)
    year = today.year
    counts: list[CycleCounts] = []
    for cycle, standard in zip(cycles, check_cycles(cycles, resolve_standard), strict=True):
        members = by_standard.get(standard, [])
        kinds = {AssessmentKind.SELF: cycle.self_due, AssessmentKind.COUNCIL: cycle.council_due}
        tallies = {
            kind: _tally(members, kind, due.in_year(year), today, due_soon_days)
            for kind, due in kinds.items()
            if due is not None
        }
        counts.append(
            CycleCounts(
                standard=standard,
                year=year,
                covered_year=year - 1 if cycle.covers == Covers.PREVIOUS_YEAR else year,
                hospitals=len(members),
                self_counts=tallies[AssessmentKind.SELF],
                council_counts=tallies.get(AssessmentKind.COUNCIL),
            )
        )
    return counts


def cycle_report(  # noqa: PLR0917 (the states' inputs and the day's threshold)
    cycles: Sequence[Cycle],
    hospitals: Iterable[CycleHospital],
    assessments: Iterable[CycleAssessment],
    today: date,
    due_soon_days: int,
    resolve_standard: StandardResolver,
) -> CycleReport:
    """`cycle_states` and `cycle_counts` on `today`, in one value."""
    states = tuple(cycle_states(cycles, hospitals, assessments, today, resolve_standard))
    counts = cycle_counts(cycles, states, today, due_soon_days, resolve_standard)
    return CycleReport(today, due_soon_days, states, tuple(counts))


def _in_year(due: MonthDay | None, year: int) -> date | None:
    return None if due is None else due.in_year(year)


def _tally(
    members: Sequence[HospitalCycle],
    kind: AssessmentKind,
    due: date,
    today: date,
    due_soon_days: int,
) -> KindCounts:
    states = [m.state(kind) for m in members]
    due_states = [m.due_state(kind, today, due_soon_days) for m in members]
    return KindCounts(
        due=due,
        submitted=states.count(Submission.SUBMITTED),
        draft_only=states.count(Submission.DRAFT_ONLY),
        missing=states.count(Submission.MISSING),
        late=due_states.count(DueState.LATE),
        overdue=due_states.count(DueState.OVERDUE),
        due_soon=due_states.count(DueState.DUE_SOON),
    )


@dataclass
class _Profile:
    """A hospital's rows merged across sources."""

    name: str = ""
    inactive: bool = False
    columns: dict[str, list[Any]] = field(default_factory=dict)

    def applies(self, cycle: Cycle) -> bool:
        if self.inactive:
            return False
        if cycle.applies_when is None:
            return True
        return any(is_yes(value) for value in self.columns.get(fold(cycle.applies_when), ()))


def _profiles(hospitals: Iterable[CycleHospital]) -> dict[str, _Profile]:
    """Live hospitals by id, their rows merged (see `CycleHospital`)."""
    profiles: dict[str, _Profile] = {}
    for row in hospitals:
        if row.deleted:
            continue
        profile = profiles.setdefault(row.hospital_id, _Profile())
        profile.name = profile.name or row.name
        profile.inactive = profile.inactive or row.active is False
        for column, value in row.columns.items():
            profile.columns.setdefault(fold(column), []).append(value)
    return profiles


def is_yes(value: object) -> bool:
    """Whether a cell says yes: True, 1, or a yes word of the vocabulary (any case, accents)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    if isinstance(value, str):
        return fold(value) in _YES or value.strip() in {"1", "1.0"}
    return False
