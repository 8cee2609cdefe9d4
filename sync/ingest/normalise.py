"""Normalising a source snapshot: headers by name, typed values, keys and references checked.

Pure: cells in, `NormalisedSource` out. Every row that cannot be used becomes a `Rejection`
with a reason in English and Vietnamese naming the column as the sheet spells it; good rows are
never held back by bad ones. Only problems with the source as a whole (a missing tab, a missing
or ambiguous column, a mapped header the tab lacks) raise `SourceError`. Tabs are read parents
first (hospitals, assessments, findings) so that each row's references can be checked. A
resync skips work on rows it can show unchanged: by their hash (`known`) or, for findings, by the
last sync's memo (`memos`); see ARCHITECTURE.md, ingestion.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, count, islice, repeat
from operator import itemgetter
from typing import cast
from zoneinfo import ZoneInfo

from hqsync.config.errors import SourceError
from hqsync.config.settings import TabNames
from hqsync.config.utils import paused_gc
from hqsync.config.vocabulary import KEY_FIELDS, TAB_KINDS, TabKind
from hqsync.scoring.ruleset import RuleSet, resolve_standard
from hqsync.sync.ingest.cells import (
    FIELD_COERCERS,
    CellProblem,
    Coercers,
    Compute,
    Outcome,
    attempt,
    blank,
    cell_key,
    raw_and_extra,
)
from hqsync.sync.ingest.columnar import (
    RawAndExtra,
    TabColumns,
    all_given,
    clean_values_of_row,
    keys_by_column,
    read_columns,
    unique_rows,
)
from hqsync.sync.ingest.contract import FIELDS, REQUIRED_VALUES, ROW_NOUNS
from hqsync.sync.ingest.hashing import context_digests, tab_context
from hqsync.sync.ingest.headers import HeaderMatch, match_headers
from hqsync.sync.ingest.limits import FIELD_LENGTHS, key_cell_problem, length_problems
from hqsync.sync.ingest.locale import SourceLocale, source_locale
from hqsync.sync.ingest.mapping import check_mapped_fields
from hqsync.sync.ingest.memo import MemoScan, TabMemo, text_digest
from hqsync.sync.ingest.references import (
    HOSPITAL_RULES,
    Parent,
    ParentColumns,
    Parents,
    References,
    StandardResolver,
    TabRules,
    Values,
    assessment_rules,
    finding_rules,
)
from hqsync.sync.ingest.rows import (
    DUPLICATE_KEY,
    NormalisedSource,
    Rejection,
    RowProblem,
    SourceRow,
    row_problem,
    unparsed_row,
)
from hqsync.sync.interfaces import CellValue, SourceSnapshot


def normalise_source(
    snapshot: SourceSnapshot,
    tabs: TabNames,
    rule_sets: Mapping[str, RuleSet],
    timezone: str = "Asia/Ho_Chi_Minh",
    *,
    resolver: StandardResolver | None = None,
    known: Mapping[str, Mapping[str, str]] | None = None,
    memos: Mapping[str, TabMemo] | None = None,
    columns: Mapping[str, Mapping[str, str]] | None = None,
    locale: SourceLocale | None = None,
    source: str = "?",
) -> NormalisedSource:
    """Turn a source snapshot into usable rows per tab and rejections with reasons.

    Raises SourceError when a tab is missing or its headers are unusable; every row-level
    problem becomes a Rejection. A naive sheet datetime is taken to be in `timezone`.
    `resolver(rule_sets, text)` finds the rule set a `standard` cell names (default:
    `resolve_standard`). `known` (tab kind → key → row hash of the live stored rows) lets
    unchanged rows skip parsing: they come back with `parsed=False` and empty fields. `memos`
    (tab kind → the memo the last sync left) lets the findings rows it shows unchanged in
    place skip even hashing: they are counted in `settled`, not returned.

    `columns` is the source's column mapping (tab kind → field → header; a ConfigError naming
    `sources[<source>].columns...` when it names a field the contract lacks). `locale` is how
    text dates and numbers are read; None: the snapshot's own (a Google spreadsheet's locale),
    else vi_VN (see `hqsync.sync.ingest.locale.resolve_locale`).
    """
    columns = columns or {}
    check_mapped_fields(source, columns, _FIELD_NAMES)
    read_in = locale if locale is not None else source_locale(snapshot.locale)
    with paused_gc():
        return _normalise(
            snapshot,
            tabs,
            _Context(
                Coercers(ZoneInfo(timezone), read_in),
                References(rule_sets, resolver or resolve_standard),
                timezone=timezone,
                locale=read_in,
                columns=columns,
            ),
            known=known or {},
            memos=memos or {},
        )


_FIELD_NAMES: Mapping[str, tuple[str, ...]] = {
    kind: tuple(spec.name for spec in FIELDS[kind]) for kind in TAB_KINDS
}


@dataclass
class _Tab:
    """One tab of the snapshot, its header row matched."""

    kind: TabKind
    name: str
    match: HeaderMatch
    rows: Sequence[Sequence[CellValue]]


@dataclass
class _Context:
    """What one run shares across its tabs: coercers, references, the time zone, rejections."""

    coerce: Coercers
    refs: References
    timezone: str
    locale: SourceLocale
    columns: Mapping[str, Mapping[str, str]]
    rejections: list[Rejection] = field(default_factory=list)


def _normalise(
    snapshot: SourceSnapshot,
    tabs: TabNames,
    ctx: _Context,
    *,
    known: Mapping[str, Mapping[str, str]],
    memos: Mapping[str, TabMemo],
) -> NormalisedSource:
    """Read the three tabs, parents first, each checked against the rows of its parent tab."""
    read = _read_tabs(snapshot, tabs, ctx.columns)
    hospitals_tab = read[TabKind.HOSPITALS]
    hospitals, hospital_parents, _ = _TabParser(
        hospitals_tab, ctx, HOSPITAL_RULES, known.get(TabKind.HOSPITALS, {})
    ).run()

    assessments_tab = read[TabKind.ASSESSMENTS]
    rules = assessment_rules(
        ctx.refs, assessments_tab.match, ctx.coerce.key, hospital_parents, hospitals_tab.name
    )
    assessments, assessment_parents, _ = _TabParser(
        assessments_tab, ctx, rules, known.get(TabKind.ASSESSMENTS, {})
    ).run()

    findings_tab = read[TabKind.FINDINGS]
    rules = finding_rules(
        ctx.refs, findings_tab.match, ctx.coerce.key, assessment_parents, assessments_tab.name
    )
    findings, _, scan = _TabParser(
        findings_tab,
        ctx,
        rules,
        known.get(TabKind.FINDINGS, {}),
        memo=memos.get(TabKind.FINDINGS),
        # What a finding's parse depends on besides its cells and the tab: its assessment.
        parents_context=text_digest(assessment_parents.context()),
    ).run()
    assert scan is not None
    memo, settled = scan.result()
    return NormalisedSource(
        hospitals=tuple(hospitals),
        assessments=tuple(assessments),
        findings=tuple(findings),
        rejections=tuple(ctx.rejections),
        settled={} if settled is None else {TabKind.FINDINGS: settled},
        memos={TabKind.FINDINGS: memo},
    )


def _read_tabs(
    snapshot: SourceSnapshot, tabs: TabNames, columns: Mapping[str, Mapping[str, str]]
) -> dict[TabKind, _Tab]:
    """Each tab kind's tab with its header row matched; SourceError when one is unusable."""
    read: dict[TabKind, _Tab] = {}
    for kind, name in tabs.as_dict().items():
        raw_tab = snapshot.tabs.get(name)
        if raw_tab is None:
            found = ", ".join(repr(t) for t in snapshot.available_tabs) or "none"
            raise SourceError(
                f"the source has no tab {name!r} (for {kind}); tabs found: {found}. "
                f"Rename the tab or set tabs.{kind} in the source's config"
            )
        if not raw_tab.rows or not any(not blank(c) for c in raw_tab.rows[0]):
            raise SourceError(
                f"tab {name!r} has no header row; row 1 must name the columns "
                f"(e.g. {', '.join(repr(s.header_vi) for s in FIELDS[kind] if s.required)})"
            )
        match = match_headers(kind, raw_tab.rows[0], name, columns.get(kind))
        read[TabKind(kind)] = _Tab(TabKind(kind), name, match, raw_tab.rows)
    return read


_cells_of = itemgetter(1)
"""(row number, cells) → cells."""


class _TabParser:
    """Parses one tab's rows: unchanged rows by their hash alone, the others cell by cell.

    `rules.context_of(row)` gives (what the row's hash depends on besides its cells and the
    tab; what children need) when the row's references resolve, else None. A row whose hash
    equals the `known` stored hash of its key is not parsed again (it is unchanged in the
    store). With `parents_context` (a digest of the parent rows; only for a tab without
    children) the tab is scanned against `memo`: rows it shows unchanged in place are settled,
    neither parsed nor returned, and `run` returns the scan that holds them and the next memo.
    """

    def __init__(
        self,
        tab: _Tab,
        ctx: _Context,
        rules: TabRules,
        known: Mapping[str, str],
        *,
        memo: TabMemo | None = None,
        parents_context: str | None = None,
    ) -> None:
        kind = tab.kind
        match = tab.match
        self.tab, self.ctx, self.rules = tab, ctx, rules
        self.key_field = KEY_FIELDS[kind]
        self.key_header = match.column(self.key_field)
        self.headers = {name: match.column(name) for name in match.fields}
        self.field_items = tuple(match.fields.items())
        required = REQUIRED_VALUES[kind]
        self.plan: tuple[tuple[str, int | None, dict[Hashable, Outcome], Compute, bool], ...]
        self.plan = tuple(
            (name, match.fields.get(name), *ctx.coerce.plan(coercer), name in required)
            for name, coercer in FIELD_COERCERS[kind].items()
        )
        limits = FIELD_LENGTHS[kind]
        self.limits = tuple(limits.get(name) for name, *_ in self.plan)
        self.key_limit = limits.get(self.key_field)
        self.has_children = kind != TabKind.FINDINGS
        self.columns: TabColumns | None = None
        """The tab read a column at a time, on a sync that parses every row (`read_columns`)."""
        self.prefix = tab_context(kind, match, ctx.timezone, ctx.locale)
        self.known_by_hash = dict(zip(known.values(), known.keys(), strict=True))
        self.seen: dict[str, int] = {}
        self.parents: dict[str, Parent] = {}
        self.stored: list[SourceRow] = []
        self._holding: dict[str, str] | None = None
        self.scan: MemoScan | None = None
        if parents_context is not None:
            self.scan = MemoScan(
                kind, tab.rows[1:], memo, context=text_digest(self.prefix), parents=parents_context
            )
        self.memo_hashes = self.scan.hashes if self.scan is not None else None

    def _visiting(self) -> Iterator[tuple[int, Sequence[CellValue]]]:
        """(row number, cells) of every data row to look at: all of them, or with a memo scan
        only the ranges it could not settle by blocks."""
        rows = self.tab.rows
        if self.scan is None:
            return enumerate(islice(rows, 1, None), 2)
        return chain.from_iterable(
            zip(range(start + 2, end + 2), rows[start + 1 : end + 1], strict=True)
            for start, end in self.scan.visit
        )

    def run(self) -> tuple[list[SourceRow], Parents, MemoScan | None]:
        """Parse every row; returns the usable rows, the rows by key for children, the scan."""
        # The known-row fast path runs for every row of a re-sync: kept to a few dict lookups,
        # one hash and one row built, with no per-cell Python work (see bench_ingest.py).
        context_of, prefix = self.rules.context_of, self.prefix
        known_by_hash, seen, parents, stored = (
            self.known_by_hash,
            self.seen,
            self.parents,
            self.stored,
        )
        scan, memo_hashes = self.scan, self.memo_hashes
        in_place = scan if scan is not None and scan.has_previous else None
        has_children = self.has_children
        own_key, own_key_index = self.ctx.coerce.own_key, self.tab.match.fields[self.key_field]
        if not known_by_hash and in_place is None:  # every row is parsed: a column at a time
            self.columns = read_columns(
                self.tab.rows[1:],
                self.tab.match,
                key_field=self.key_field,
                key_limit=self.key_limit,
                plan=self.plan,
                limits=self.limits,
                context_of=context_of,
                prefix=prefix,
            )
            if self.columns.digests is not None:
                self._parse_all(self.columns)
                columns = ParentColumns(self.tab.kind, self.key_field, self._column_holding)
                return stored, Parents(parents, columns), scan
        visited = [pair for pair in self._visiting() if pair[1]]  # empty rows are no records
        rows = list(map(_cells_of, visited))
        contexts = list(map(context_of, rows))
        texts = [None if c is None else c[0] for c in contexts]
        digests = context_digests(prefix, texts, rows)  # hashed a tab at a time, in C
        for (row_number, row), context, digest in zip(visited, contexts, digests, strict=True):
            if context is not None:
                if in_place is not None and in_place.settled_in_place(row_number - 2, digest):
                    continue  # same cells, same context, same place as the stored row
                known_key = known_by_hash.get(digest)
                if known_key is None and in_place is not None and in_place.seen_before(digest):
                    known_key = cell_key(own_key, row, own_key_index)
                if known_key is not None and known_key not in seen:
                    # Same cells, same context as the stored row: unchanged, no need to parse.
                    seen[known_key] = row_number
                    if has_children:
                        parents[known_key] = Parent(row_number, rule_set=context[1])
                    stored.append(unparsed_row(known_key, row_number, digest))
                    if memo_hashes is not None:
                        memo_hashes[row_number - 2] = digest
                    continue
            self._parse_row(row_number, row, digest, has_context=context is not None)
        columns = ParentColumns(self.tab.kind, self.key_field, self._column_holding)
        return stored, Parents(parents, columns), scan

    def _parse_all(self, columns: TabColumns) -> None:
        """Parse every row of the tab, its context and hash at hand (`read_columns`): the rows
        `_checked_in_bulk` passes are stored as they are, the others parsed."""
        assert columns.digests is not None
        seen, stored, key_field = self.seen, self.stored, self.key_field
        memo_hashes = self.memo_hashes
        passed = self._checked_in_bulk(columns)
        # A row that passed has values and raw cells (typed so once here, not per row).
        clean = cast(list[Values], columns.clean)
        if passed is not None and not seen and all(passed):
            rows = unique_rows(columns, key_field)  # the usual first load: all in C
            if rows is not None:  # (`seen` stays empty: no row of the tab is parsed after)
                stored.extend(rows)
                if memo_hashes is not None:
                    memo_hashes[: len(rows)] = columns.digests
                return
        raws = cast(Iterable[RawAndExtra], repeat(None) if columns.raws is None else columns.raws)
        # Per row of a first load: kept to a key look-up and the row built (see bench_ingest).
        for row_number, row, context, digest, fine, values, both in zip(
            count(2),
            islice(self.tab.rows, 1, None),
            columns.contexts,
            columns.digests,
            repeat(False) if passed is None else passed,
            clean,
            raws,
            strict=False,
        ):
            if fine:
                key: str = values[key_field]
                if key not in seen:
                    seen[key] = row_number
                    raw, extra = both
                    stored.append(SourceRow(key, row_number, values, raw, extra, digest))
                    if memo_hashes is not None:
                        memo_hashes[row_number - 2] = digest
                    continue
            if row:
                self._parse_row(row_number, row, digest, has_context=context is not None)

    def _checked_in_bulk(self, columns: TabColumns) -> list[bool] | None:
        """Per data row, True when it reads cleanly, its raw cells are at hand and its
        references are sound (checked a tab at a time, `TabRules.check_many`): it needs only
        its key checked against the rows above. None: row by row (a tab with children, or
        rows the memo knows keep a duplicate key)."""
        check_many = self.rules.check_many
        if (
            check_many is None
            or self.has_children
            or columns.raws is None
            or (self.scan is not None and self.scan.kept)
        ):
            return None
        present = all_given(columns.clean, columns.raws, columns.contexts)
        checked = iter(check_many(cast(list[Values], list(compress(columns.clean, present)))))
        return [ok and next(checked) for ok in present]

    def _column_holding(self, value: str) -> str | None:
        """The header of the first column other than the key that holds `value` on some row
        (the index is built on the first call: only a reference that matches no key asks)."""
        if self._holding is None:
            match = self.tab.match
            key_index, read = match.fields[self.key_field], self.ctx.coerce.own_key
            self._holding = keys_by_column(self.tab.rows[1:], match.names, key_index, read)
        return self._holding.get(value)

    def _parse_row(
        self, row_number: int, row: Sequence[CellValue], digest: str, *, has_context: bool
    ) -> None:
        """Parse one row cell by cell: store it, or reject it with every problem it has."""
        if has_context and self._store_clean_row(row_number, row, digest):
            return
        length = len(row)
        cells = {name: (row[i] if i < length else None) for name, i in self.field_items}
        if blank(cells[self.key_field]) and all(blank(v) for v in cells.values()):
            return  # empty (or only extra columns filled): not a record
        problems: list[RowProblem] = []
        key = self._own_key(cells[self.key_field], problems)
        if key is not None and self.scan is not None and key in self.scan.kept:
            holder = self.scan.settled_holder(key, row_number)  # unread, but holds the key
            if holder is not None and key not in self.seen:
                self.seen[key] = holder
        if key is not None and key in self.seen:
            self._reject_duplicate(row_number, row, key)
            return
        if key is not None:
            self.seen[key] = row_number
        values = self._values(key, row, problems)
        for name, (code, en, vi) in length_problems(self.tab.kind, values):
            problems.append(row_problem(code, self.headers.get(name), en, vi))
        rule_set = None
        if not problems:
            rule_set = self.rules.check(values, problems)
        if problems:
            self._reject_row(row_number, row, key, problems)
            return
        assert key is not None and has_context, "a valid row's references resolve"
        self.parents[key] = Parent(row_number, rule_set=rule_set)
        raw, extra = raw_and_extra(self.tab.match, row)
        self.stored.append(SourceRow(key, row_number, values, raw, extra, digest))
        if self.memo_hashes is not None:
            self.memo_hashes[row_number - 2] = digest

    def _store_clean_row(self, row_number: int, row: Sequence[CellValue], digest: str) -> bool:
        """Store a row that has no problem at all, the common case, with less work per cell
        than `_parse_row`'s general road (the same values, the same row); False, having
        changed nothing, when the row has any problem or its key needs cleaning: then the
        general road reads it and says what is wrong."""
        if self.columns is not None:
            values = self.columns.clean[row_number - 2]
            if values is None:
                return False
            key = cast(str, values[self.key_field])
            if key in self.seen or (self.scan is not None and key in self.scan.kept):
                return False
        else:
            found = clean_values_of_row(
                row,
                key_field=self.key_field,
                key_index=self.tab.match.fields[self.key_field],
                key_limit=self.key_limit,
                plan=self.plan,
                limits=self.limits,
            )
            if found is None:
                return False
            key, values = found
            if key in self.seen or (self.scan is not None and key in self.scan.kept):
                return False
        problems: list[RowProblem] = []
        rule_set = self.rules.check(values, problems)
        if problems:  # `check` changed nothing it does not set again on the general road
            return False
        self.seen[key] = row_number
        if self.has_children:  # findings are no one's parents
            self.parents[key] = Parent(row_number, rule_set=rule_set)
        raws = None if self.columns is None else self.columns.raws
        both = None if raws is None else raws[row_number - 2]
        raw, extra = raw_and_extra(self.tab.match, row) if both is None else both
        self.stored.append(SourceRow(key, row_number, values, raw, extra, digest))
        if self.memo_hashes is not None:
            self.memo_hashes[row_number - 2] = digest
        return True

    def _own_key(self, cell: CellValue, problems: list[RowProblem]) -> str | None:
        """The row's own key; a problem when empty, unreadable or holding a control character."""
        control = key_cell_problem(cell)
        if control is not None:
            problems.append(row_problem(control[0], self.key_header, control[1], control[2]))
            return None
        try:
            key = self.ctx.coerce.own_key(cell)
        except CellProblem as problem:
            problems.append(row_problem(problem.code, self.key_header, problem.en, problem.vi))
            return None
        if key is None:
            what_en, what_vi = ROW_NOUNS[self.tab.kind]
            problems.append(
                row_problem(
                    "missing_key",
                    self.key_header,
                    f"the {what_en} key is empty; fill in a unique code",
                    f"mã {what_vi} đang trống; hãy nhập một mã duy nhất",
                )
            )
        return key

    def _values(
        self, key: str | None, row: Sequence[CellValue], problems: list[RowProblem]
    ) -> Values:
        """The row's fields, read by their coercers; a problem for each cell that cannot be."""
        values: Values = {self.key_field: key}
        length = len(row)
        headers = self.headers
        for name, index, cache, compute, needed in self.plan:
            if index is None:
                values[name] = None
                continue
            value = row[index] if index < length else None
            # `Coercers.coerce`, inlined: sheets repeat the same words and dates.
            cache_key = value if type(value) is str else (type(value), value)
            outcome = cache.get(cache_key)
            if outcome is None:
                outcome = cache[cache_key] = attempt(compute, value)
            if not outcome[0]:
                values[name] = None
                failure = outcome[1]
                problems.append(row_problem(failure.code, headers[name], failure.en, failure.vi))
                continue
            result = outcome[1]
            values[name] = result
            if needed and result is None:
                problems.append(
                    row_problem(
                        "missing_value",
                        headers[name],
                        "the cell is empty; fill it in",
                        "ô đang trống; hãy nhập giá trị",
                    )
                )
        return values

    def _reject_duplicate(self, row_number: int, row: Sequence[CellValue], key: str) -> None:
        """Reject a row whose key an earlier row already has (the earlier row is kept)."""
        first = self.seen[key]
        what_en, what_vi = ROW_NOUNS[self.tab.kind]
        problem = row_problem(
            DUPLICATE_KEY,
            self.key_header,
            f"{what_en} {key!r} is already on row {first}; this row {row_number} is "
            f"a duplicate and was not used (row {first} was kept) — delete one",
            f"{what_vi} {key!r} đã có ở dòng {first}; dòng {row_number} này bị trùng "
            f"và không được dùng (giữ dòng {first}) — hãy xoá một dòng",
        )
        self._reject(row_number, row, key, [problem])

    def _reject_row(
        self, row_number: int, row: Sequence[CellValue], key: str | None, problems: list[RowProblem]
    ) -> None:
        """Reject a row with problems; its children are rejected too, naming the root cause."""
        self._reject(row_number, row, key, problems)
        if key is None:
            return
        cause = self.ctx.refs.cause
        if problems[0][0].endswith("_rejected") and cause is not None:
            cause_en, cause_vi = cause  # keep the root cause, not a chain
        else:
            name = self.tab.name
            cause_en = f"the cause: {name} row {row_number}: {problems[0][2]}"
            cause_vi = f"nguyên nhân: {name} dòng {row_number}: {problems[0][3]}"
        self.parents[key] = Parent(row_number, rejected_en=cause_en, rejected_vi=cause_vi)

    def _reject(
        self, row_number: int, row: Sequence[CellValue], key: str | None, problems: list[RowProblem]
    ) -> None:
        """Record one rejection for a row (all its problems in one reason, first one's column)."""
        code, column, _, _ = problems[0]
        raw, _ = raw_and_extra(self.tab.match, row)
        self.ctx.rejections.append(
            Rejection(
                tab=self.tab.name,
                row_number=row_number,
                column=column,
                key=key,
                reason_en="; also ".join(p[2] for p in problems),
                reason_vi="; ngoài ra ".join(p[3] for p in problems),
                raw=raw,
                code=code,
                tab_kind=self.tab.kind,
            )
        )
