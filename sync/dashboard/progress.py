"""The Progress tab (Tiến độ): where each hospital stands in the current assessment cycles.

On the overview: one row per standard with its counts ("41/58 submitted", "6 overdue"), frozen
above one row per hospital and standard, overdue first, then due soon, then by name (Vietnamese
order). On a hospital's own dashboard: only that hospital's rows, no counts. The tab exists
only when `[[cycles]]` are configured (`DashboardData.cycles`, see `loader.with_cycles`).

Days are counted from the publish day. "Due in N days" is shown only within the due-soon
window (and "overdue by N days" once past): a far deadline reads "not yet due" beside its date,
so a day passing rewrites only the dashboards whose deadlines are near or past.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from hqsync.config.utils import name_sort_key
from hqsync.config.vocabulary import AssessmentKind, DueState
from hqsync.scoring.cycles import CycleCounts, CycleReport, HospitalCycle, KindCounts
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.dashboard.colours import DUE_COLOURS, PROGRESS_TOTAL_COLOUR
from hqsync.sync.dashboard.columns import Columns, ColumnSpec
from hqsync.sync.dashboard.document import Table
from hqsync.sync.dashboard.formats import standard_name
from hqsync.sync.interfaces import CellValue

KIND_PREFIX = {AssessmentKind.SELF: "self", AssessmentKind.COUNCIL: "council"}
"""The prefix of each kind's column keys (`self_state`, `council_due`, …)."""


def _kind_columns(kind: AssessmentKind) -> tuple[ColumnSpec, ...]:
    prefix = KIND_PREFIX[kind]
    return (
        ColumnSpec(f"{prefix}_state", width=20),
        ColumnSpec(f"{prefix}_on", "date", width=13),
        ColumnSpec(f"{prefix}_due", "date", width=13),
        ColumnSpec(f"{prefix}_status", width=24),
    )


OVERVIEW_LEADING = (
    ColumnSpec("standard", width=12),
    ColumnSpec("hospital", width=34),
    ColumnSpec("hospital_id", width=10),
    ColumnSpec("covered", "integer", width=10),
)
"""The overview's Progress columns before each kind's state, date, deadline and status."""
HOSPITAL_LEADING = (ColumnSpec("standard", width=12), ColumnSpec("covered", "integer", width=10))
"""A hospital's own Progress columns before each kind's."""


def progress_tables(
    report: CycleReport | None, labels: Mapping[str, str], rule_sets: Mapping[str, RuleSet]
) -> tuple[Table, ...]:
    """The overview's Progress tab: the counts per standard, then every hospital's states;
    () without cycles."""
    if report is None:
        return ()
    kinds = _kinds(report)
    columns = _columns(OVERVIEW_LEADING, kinds, labels)
    rows = [columns.row(_count_cells(c, kinds, labels, rule_sets)) for c in report.counts]
    fills = {
        (row, columns.index(key)): PROGRESS_TOTAL_COLOUR
        for row in range(len(rows))
        for key in ("standard", "hospital")
    }
    return (
        _progress_table(
            report,
            report.states,
            columns,
            labels,
            rule_sets,
            rows=rows,
            fills=fills,
            # The counts stay in view above the hospitals; a filter would sort them in.
            freeze_rows=1 + len(report.counts),
            freeze_columns=2,
        ),
    )


def hospital_progress_tables(
    report: CycleReport | None,
    hospital_id: str,
    labels: Mapping[str, str],
    rule_sets: Mapping[str, RuleSet],
) -> tuple[Table, ...]:
    """A hospital's own Progress tab: its states and deadlines only; () without cycles."""
    if report is None:
        return ()
    columns = _columns(HOSPITAL_LEADING, _kinds(report), labels)
    states = report.of_hospital(hospital_id)
    return (_progress_table(report, states, columns, labels, rule_sets),)


def hospital_progress_inputs(report: CycleReport | None, hospital_id: str) -> object:
    """All `hospital_progress_tables` reads of `report` for one hospital: a hospital's input
    digest (`sync.dashboard.inputs`) takes this, not the whole report, so another hospital's
    submission does not rebuild its dashboard. Keep it in step with that function."""
    if report is None:
        return None
    states = report.of_hospital(hospital_id)
    day = (report.today, report.due_soon_days) if states else None
    return (_kinds(report), day, states)


def _progress_table(
    report: CycleReport,
    states: Sequence[HospitalCycle],
    columns: Columns,
    labels: Mapping[str, str],
    rule_sets: Mapping[str, RuleSet],
    *,
    rows: Sequence[tuple[CellValue, ...]] = (),
    fills: Mapping[tuple[int, int], str] | None = None,
    freeze_rows: int = 1,
    freeze_columns: int = 0,
) -> Table:
    """A Progress tab: `rows` (the counts, if any), then one row per state in progress order
    (overdue, due soon, the rest; by name), each status cell coloured by its due state."""
    kinds = _kinds(report)
    body = list(rows)
    colours = dict(fills or {})
    for state in sorted(states, key=lambda s: _order(s, report, rule_sets)):
        cells = {
            "standard": standard_name(rule_sets, state.standard),
            "hospital": state.name or state.hospital_id,
            "hospital_id": state.hospital_id,
            **_state_cells(state, kinds, report, labels),
        }
        for kind in state.kinds:
            colour = DUE_COLOURS.get(state.due_state(kind, report.today, report.due_soon_days))
            if colour:
                colours[(len(body), columns.index(f"{KIND_PREFIX[kind]}_status"))] = colour
        body.append(columns.row({k: v for k, v in cells.items() if k in columns.keys}))
    return Table(
        key="progress",
        title=labels["progress"],
        columns=columns.columns,
        rows=tuple(body),
        fills=colours,
        freeze_rows=freeze_rows,
        freeze_columns=freeze_columns,
        filter=False,
    )


def _kinds(report: CycleReport) -> tuple[AssessmentKind, ...]:
    """Self, and council when any cycle has a council deadline."""
    if any(c.council_counts is not None for c in report.counts):
        return (AssessmentKind.SELF, AssessmentKind.COUNCIL)
    return (AssessmentKind.SELF,)


def _columns(
    leading: Sequence[ColumnSpec], kinds: Sequence[AssessmentKind], labels: Mapping[str, str]
) -> Columns:
    specs = [*leading, *(spec for kind in kinds for spec in _kind_columns(kind))]
    return Columns(spec.keyed(labels) for spec in specs)


def _order(
    state: HospitalCycle, report: CycleReport, rule_sets: Mapping[str, RuleSet]
) -> tuple[object, ...]:
    """Overdue first, then due soon, then the rest; each by name, id and standard."""
    return (
        state.urgency(report.today, report.due_soon_days),
        name_sort_key(state.name or state.hospital_id),
        state.hospital_id,
        standard_name(rule_sets, state.standard),
    )


def _state_cells(
    state: HospitalCycle,
    kinds: Sequence[AssessmentKind],
    report: CycleReport,
    labels: Mapping[str, str],
) -> dict[str, CellValue]:
    """The covered year and, per kind with a deadline, its state, date, deadline and status."""
    cells: dict[str, CellValue] = {"covered": state.covered_year}
    for kind in kinds:
        submission = state.state(kind)
        due = state.due(kind)
        if submission is None or due is None:
            continue  # this standard's cycle has no council deadline
        prefix = KIND_PREFIX[kind]
        due_state = state.due_state(kind, report.today, report.due_soon_days)
        submitted = state.submitted_on(kind)
        cells[f"{prefix}_state"] = labels[f"submission_{submission}"]
        cells[f"{prefix}_on"] = submitted
        cells[f"{prefix}_due"] = due
        cells[f"{prefix}_status"] = status_text(due_state, due, report.today, submitted, labels)
    return cells


def status_text(
    due_state: DueState,
    due: date,
    today: date,
    submitted: date | None,
    labels: Mapping[str, str],
) -> str:
    """A deadline's status as leaders read it: on time, N days late, not yet due, due in N days,
    due today, overdue by N days."""
    if due_state == DueState.DONE:
        return labels["on_time"]
    if due_state == DueState.LATE:
        late = (submitted - due).days if submitted is not None else 0
        return labels["late_by"].format(span=_days(late, labels))
    if due_state == DueState.PENDING:
        return labels["not_yet_due"]
    left = (due - today).days
    if due_state == DueState.OVERDUE:
        return labels["overdue_by"].format(span=_days(-left, labels))
    return labels["due_today"] if left == 0 else labels["due_in"].format(span=_days(left, labels))


def _days(count: int, labels: Mapping[str, str]) -> str:
    return labels["one_day"] if count == 1 else labels["n_days"].format(n=count)


def _count_cells(
    counts: CycleCounts,
    kinds: Sequence[AssessmentKind],
    labels: Mapping[str, str],
    rule_sets: Mapping[str, RuleSet],
) -> dict[str, CellValue]:
    """One standard's counts row: how many hospitals, and per kind submitted/total, the
    deadline and how many are overdue, due soon or late."""
    cells: dict[str, CellValue] = {
        "standard": standard_name(rule_sets, counts.standard),
        "hospital": labels["all_hospitals"].format(n=counts.hospitals),
        "covered": counts.covered_year,
    }
    for kind in kinds:
        tally = counts.of(kind)
        if tally is None:
            continue
        prefix = KIND_PREFIX[kind]
        cells[f"{prefix}_state"] = _submitted_text(tally, counts.hospitals, labels)
        cells[f"{prefix}_due"] = tally.due
        cells[f"{prefix}_status"] = _tally_text(tally, labels)
    return cells


def _submitted_text(tally: KindCounts, hospitals: int, labels: Mapping[str, str]) -> str:
    text = labels["submitted_of"].format(done=tally.submitted, total=hospitals)
    if tally.draft_only:
        text += " · " + labels["drafts_count"].format(n=tally.draft_only)
    return text


def _tally_text(tally: KindCounts, labels: Mapping[str, str]) -> str | None:
    parts = [
        labels[key].format(n=n)
        for key, n in (
            ("overdue_count", tally.overdue),
            ("due_soon_count", tally.due_soon),
            ("late_count", tally.late),
        )
        if n
    ]
    return " · ".join(parts) or None


__all__ = ["hospital_progress_tables", "progress_tables", "status_text"]
