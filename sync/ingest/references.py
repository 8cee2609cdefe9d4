"""References between tabs: an assessment names its hospital and rule set, a finding its assessment.

A row whose parent is missing or rejected is rejected too, with a reason naming the parent's
row and, for a rejected parent, the root cause (not a chain of causes). A reference that
matches no key but a value in another column of the parent tab (an AppSheet Ref holds the
parent's `Row ID` while the key is read from a code column) names that column and the mapping
that would make it the key. Besides its own cells,
what a row's parse depends on is its parent's rule set, so the rules here also give each row
the rule-set part of its hash context (see hashing.py and ARCHITECTURE.md, ingestion).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import and_, is_not, itemgetter
from typing import cast

from hqsync.config.vocabulary import DEFAULT_STATUS, Result, fold
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.ingest.cells import cell_key
from hqsync.sync.ingest.hashing import rule_set_context
from hqsync.sync.ingest.headers import HeaderMatch
from hqsync.sync.ingest.rows import FieldValue, RowProblem, row_problem
from hqsync.sync.interfaces import CellValue

StandardResolver = Callable[[Mapping[str, RuleSet], str], RuleSet | None]
"""Finds the rule set a `standard` cell names (default: `resolve_standard`)."""
Values = dict[str, FieldValue]
"""A row's parsed fields, by DB column name."""
Check = Callable[[Values, list[RowProblem]], RuleSet | None]
"""Checks a parsed row's references, appending problems; returns what its children need."""
RowContext = tuple[str, RuleSet | None]
"""A row's hash context beyond its tab's (as text), and what its children need."""
CheckMany = Callable[[Sequence[Values]], list[bool]]
"""Checks many parsed rows at once: True for each row `check` would find no problem with,
having set on it what `check` sets; a False row is left as it was (`check` says what is wrong)."""
ContextOf = Callable[[Sequence[CellValue]], RowContext | None]
"""A row's context from its raw cells; None when its references do not resolve."""
KeyReader = Callable[[CellValue], str | None]
"""Reads a reference cell as a key (raises CellProblem when it cannot)."""


@dataclass(frozen=True)
class Parent:
    """What a child row needs to know of a referenced row: stored, or rejected and why."""

    row_number: int
    rejected_en: str | None = None
    rejected_vi: str | None = None
    rule_set: RuleSet | None = None


@dataclass(frozen=True)
class ParentColumns:
    """A parent tab's cells beyond its keys, to say which column a stray reference matches."""

    tab_kind: str
    key_field: str
    column_of: Callable[[str], str | None]
    """A value → the header of the first non-key column of the parent tab holding it."""


class Parents:
    """The rows of a parent tab, by key, for checking references to them."""

    def __init__(self, by_key: Mapping[str, Parent], columns: ParentColumns | None = None) -> None:
        self.by_key = by_key
        self.columns = columns
        self._folded: dict[str, str] | None = None

    def near(self, ref: str) -> str | None:
        """A key that differs from `ref` only in case, accents or spacing (for a hint)."""
        if self._folded is None:
            self._folded = {}
            for key in self.by_key:
                self._folded.setdefault(fold(key), key)
        return self._folded.get(fold(ref))

    def column_holding(self, ref: str) -> str | None:
        """The header of another column of the parent tab that holds `ref` (for a hint)."""
        return None if self.columns is None else self.columns.column_of(ref)

    def cause(self, ref: str) -> tuple[str, str] | None:
        """Why the parent `ref` was rejected (English, Vietnamese); None if it was not."""
        parent = self.by_key.get(ref)
        if parent is None or parent.rejected_en is None or parent.rejected_vi is None:
            return None
        return parent.rejected_en, parent.rejected_vi

    def context(self) -> str:
        """What the children's parse depends on of these rows: each key's rule set (or its
        rejection), as text (for the children's memo)."""
        return repr(
            sorted(
                (
                    key,
                    None
                    if parent.rejected_en is not None
                    else rule_set_context(cast(RuleSet, parent.rule_set)),
                )
                for key, parent in self.by_key.items()
            )
        )


def reference_problem(
    *,
    code_prefix: str,
    column: str,
    parent_tab: str,
    ref: str,
    parents: Parents,
    what_en: str,
    what_vi: str,
) -> RowProblem | None:
    """The problem with a reference to `ref` in `parents`: unknown (with a near key as a hint)
    or rejected (with the parent's reason); None when the parent is stored."""
    parent = parents.by_key.get(ref)
    if parent is None:
        hint_en = hint_vi = ""
        near = parents.near(ref)
        holder = None if near is not None else parents.column_holding(ref)
        if near is not None:
            hint_en = f" (did you mean {near!r}?)"
            hint_vi = f" (có phải {near!r}?)"
        elif holder is not None and parents.columns is not None:
            where = parents.columns
            mapping = f'[sources.columns.{where.tab_kind}] {where.key_field} = "{holder}"'
            hint_en = (
                f", but its column {holder!r} holds it: if these references hold that column, "
                f"read the key from it with {mapping} in the config"
            )
            hint_vi = (
                f", nhưng cột {holder!r} của bảng đó có giá trị này: nếu các tham chiếu ghi cột "
                f"đó, hãy đọc mã từ cột đó bằng {mapping} trong cấu hình"
            )
        return row_problem(
            f"unknown_{code_prefix}",
            column,
            f"{what_en} {ref!r} is not in tab {parent_tab!r}{hint_en}",
            f"{what_vi} {ref!r} không có trong bảng {parent_tab!r}{hint_vi}",
        )
    if parent.rejected_en is not None:
        return row_problem(
            f"{code_prefix}_rejected",
            column,
            f"{what_en} {ref!r} was rejected ({parent_tab} row {parent.row_number}), so this row "
            f"waits until that is fixed — {parent.rejected_en}",
            f"{what_vi} {ref!r} bị từ chối ({parent_tab} dòng {parent.row_number}) nên dòng này "
            f"chờ đến khi sửa xong — {parent.rejected_vi}",
        )
    return None


@dataclass
class References:
    """Per-run lookups the checks share: rule sets by standard text, canonical item codes, and
    the root cause of the parent rejection a check last reported."""

    rule_sets: Mapping[str, RuleSet]
    resolve: StandardResolver
    standards: dict[str, RuleSet | None] = field(default_factory=dict)
    items: dict[tuple[str, str], str | None] = field(default_factory=dict)
    cause: tuple[str, str] | None = None

    def rule_set_for(self, text: str) -> RuleSet | None:
        """The rule set a `standard` cell names, or None (resolved once per distinct text)."""
        if text not in self.standards:
            self.standards[text] = self.resolve(self.rule_sets, text)
        return self.standards[text]

    def canonical_item(self, rule_set: RuleSet, code: str) -> str | None:
        """The canonical spelling of item `code` in `rule_set`, or None when it has no such item."""
        cache_key = (rule_set.id, code)
        if cache_key not in self.items:
            self.items[cache_key] = rule_set.canonical_item(code)
        return self.items[cache_key]


@dataclass(frozen=True)
class TabRules:
    """How one tab's rows are checked against their parents (see `Check` and `ContextOf`)."""

    check: Check
    context_of: ContextOf
    check_many: CheckMany | None = None
    """The same check a tab at a time (tabs without children only: it returns no rule set)."""


HOSPITAL_RULES = TabRules(check=lambda values, problems: None, context_of=lambda row: ("", None))
"""Hospitals refer to nothing."""


def assessment_rules(
    refs: References, match: HeaderMatch, key: KeyReader, hospitals: Parents, hospitals_tab: str
) -> TabRules:
    """Assessments: a stored hospital, a known rule set (an empty status means DEFAULT_STATUS)."""
    hospital_column = match.column("hospital_id")
    standard_column = match.column("standard")
    hospital_index = match.fields["hospital_id"]
    standard_index = match.fields["standard"]

    def check(values: Values, problems: list[RowProblem]) -> RuleSet | None:
        if values["status"] is None:
            values["status"] = DEFAULT_STATUS
        ref = cast(str, values["hospital_id"])
        problem = reference_problem(
            code_prefix="hospital",
            column=hospital_column,
            parent_tab=hospitals_tab,
            ref=ref,
            parents=hospitals,
            what_en="hospital",
            what_vi="bệnh viện",
        )
        if problem:
            problems.append(problem)
            refs.cause = hospitals.cause(ref)
        text = cast(str, values["standard"])
        rule_set = refs.rule_set_for(text)
        if rule_set is None:
            known = ", ".join(sorted(refs.rule_sets)) or "none"
            problems.append(
                row_problem(
                    "unknown_standard",
                    standard_column,
                    f"{text!r} is not a known rule set (known: {known})",
                    f"{text!r} không phải là bộ tiêu chí đã biết (đã biết: {known})",
                )
            )
            return None
        values["standard"] = rule_set.id
        return rule_set

    def context_of(row: Sequence[CellValue]) -> RowContext | None:
        ref = cell_key(key, row, hospital_index)
        text = cell_key(key, row, standard_index)
        parent = hospitals.by_key.get(ref) if ref is not None else None
        if parent is None or parent.rejected_en is not None or text is None:
            return None
        rule_set = refs.rule_set_for(text)
        return None if rule_set is None else (rule_set_context(rule_set), rule_set)

    return TabRules(check, context_of)


def finding_rules(
    refs: References,
    match: HeaderMatch,
    key: KeyReader,
    assessments: Parents,
    assessments_tab: str,
) -> TabRules:
    """Findings: a stored assessment, an item of its rule set, 'partial' only where allowed."""
    assessment_column = match.column("assessment_id")
    item_column = match.column("item_code")
    result_column = match.column("result")
    assessment_index = match.fields["assessment_id"]

    def check(values: Values, problems: list[RowProblem]) -> RuleSet | None:
        ref = cast(str, values["assessment_id"])
        problem = reference_problem(
            code_prefix="assessment",
            column=assessment_column,
            parent_tab=assessments_tab,
            ref=ref,
            parents=assessments,
            what_en="assessment",
            what_vi="đánh giá",
        )
        if problem:
            problems.append(problem)
            refs.cause = assessments.cause(ref)
            return None
        rule_set = cast(RuleSet, assessments.by_key[ref].rule_set)
        code = cast(str, values["item_code"])
        canonical = refs.canonical_item(rule_set, code)
        if canonical is None:
            problems.append(
                row_problem(
                    "unknown_item",
                    item_column,
                    f"item code {code!r} is not in rule set {rule_set.id}",
                    f"mã tiểu mục {code!r} không có trong bộ tiêu chí {rule_set.id}",
                )
            )
        else:
            values["item_code"] = canonical
        if values["result"] == Result.PARTIAL and not rule_set.accepts_partial:
            problems.append(
                row_problem(
                    "partial_not_allowed",
                    result_column,
                    f"rule set {rule_set.id} has no 'partially met'; write met, not met or n/a",
                    f"bộ tiêu chí {rule_set.id} không có 'đạt một phần'; hãy nhập Đạt, "
                    f"Không đạt hoặc Không áp dụng",
                )
            )
        return None

    def check_many(rows: Sequence[Values]) -> list[bool]:
        # `check` a column at a time: each assessment, item code and result looked up once.
        # Rule sets are named by id (a RuleSet is not hashable).
        refs_of_rows = list(map(_assessment_of, rows))
        by_id: dict[str, RuleSet] = {}
        ids_of: dict[object, str | None] = {}
        for ref in set(refs_of_rows):
            parent = assessments.by_key.get(ref) if type(ref) is str else None
            sound = parent is not None and parent.rejected_en is None
            rule_set = parent.rule_set if sound and parent is not None else None
            ids_of[ref] = None if rule_set is None else rule_set.id
            if rule_set is not None:
                by_id[rule_set.id] = rule_set
        ids = list(map(ids_of.__getitem__, refs_of_rows))
        canonical: dict[tuple[str | None, object], str | None] = {}
        for rule_id, code in set(zip(ids, map(_item_of, rows), strict=True)):
            fine = rule_id is not None and type(code) is str
            canonical[rule_id, code] = (
                refs.canonical_item(by_id[rule_id], cast(str, code)) if fine and rule_id else None
            )
        items = list(map(canonical.__getitem__, zip(ids, map(_item_of, rows), strict=True)))
        allowed = {
            (rule_id, result): rule_id is not None
            and (result != Result.PARTIAL or by_id[rule_id].accepts_partial)
            for rule_id, result in set(zip(ids, map(_result_of, rows), strict=True))
        }
        results = map(allowed.__getitem__, zip(ids, map(_result_of, rows), strict=True))
        passed = list(map(and_, map(is_not, items, repeat(None)), results))
        for values, item in zip(compress(rows, passed), compress(items, passed), strict=True):
            values["item_code"] = item
        return passed

    by_cell: dict[Hashable, RowContext | None] = {}

    def context_of(row: Sequence[CellValue]) -> RowContext | None:
        cell = row[assessment_index] if assessment_index < len(row) else None
        cache_key: Hashable = cell if type(cell) is str else (type(cell), cell)
        try:
            return by_cell[cache_key]  # an assessment has hundreds of findings
        except KeyError:
            pass
        ref = cell_key(key, row, assessment_index)
        parent = assessments.by_key.get(ref) if ref is not None else None
        context = None
        if parent is not None and parent.rejected_en is None:
            context = (rule_set_context(cast(RuleSet, parent.rule_set)), None)
        by_cell[cache_key] = context
        return context

    return TabRules(check, context_of, check_many)


_assessment_of = itemgetter("assessment_id")
_item_of = itemgetter("item_code")
_result_of = itemgetter("result")
