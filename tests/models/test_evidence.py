"""The evidence link cache on real stores (SQLite and PostgreSQL): which paths are looked up,
when they are looked up again, and what is forgotten."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hqsync.config.settings import SourceSettings
from hqsync.models import evidence, tables
from hqsync.sync.evidence import RETRY_NOT_FOUND_AFTER, refresh_evidence_links

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
SOURCE = SourceSettings("cantho", "google", "sheet-id")


class Drive:
    """A resolver that knows some files and records what it was asked."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = dict(files)
        self.asked: list[list[str]] = []

    def resolve_evidence(self, paths: Collection[str]) -> Mapping[str, str | None]:
        self.asked.append(sorted(paths))
        return {p: self.files.get(p) for p in paths}


def _findings(engine, cells: Mapping[str, tuple[str | None, str]]) -> None:
    """Replace the findings: finding id → (evidence, result)."""
    with engine.begin() as conn:
        conn.execute(sa.delete(tables.findings))
        for n, (fid, (cell, result)) in enumerate(cells.items()):
            conn.execute(
                sa.insert(tables.findings).values(
                    source="cantho", finding_id=fid, assessment_id="A1", item_code=f"X{n}",
                    result=result, evidence=cell, row_number=n + 2, raw={}, extra={},
                    row_hash="h", deleted=False, first_seen_at=T0, changed_at=T0,
                )
            )  # fmt: skip


def _cache(engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        e = tables.evidence_links.c
        return dict(conn.execute(sa.select(e.path, e.url)).all())


def test_new_paths_are_looked_up_once_and_missing_ones_again_later(engine):
    drive = Drive({"I/a.jpg": "https://drive.google.com/file/d/a/view"})
    _findings(
        engine,
        {
            "f1": ("I/a.jpg", "not_met"),
            "f2": ("I/b.jpg", "met"),
            "f3": ("https://x.org/c.jpg", "not_met"),  # a URL: never looked up
            "f4": (None, "not_met"),
            "f5": ("", "not_met"),
        },
    )
    assert refresh_evidence_links(engine, SOURCE, drive, T0) == 2
    assert drive.asked == [["I/a.jpg", "I/b.jpg"]]
    assert _cache(engine) == {"I/a.jpg": "https://drive.google.com/file/d/a/view", "I/b.jpg": None}

    # Nothing new: no lookup, even for the path not found (not yet a day ago).
    assert refresh_evidence_links(engine, SOURCE, drive, T0 + timedelta(hours=1)) == 0
    assert len(drive.asked) == 1

    # A new path: looked up with the one not found before (the same listing finds both).
    drive.files["I/b.jpg"] = "https://drive.google.com/file/d/b/view"
    _findings(
        engine, {"f1": ("I/a.jpg", "not_met"), "f2": ("I/b.jpg", "met"), "f6": ("I/d.jpg", "met")}
    )
    assert refresh_evidence_links(engine, SOURCE, drive, T0 + timedelta(hours=2)) == 2
    assert drive.asked[-1] == ["I/b.jpg", "I/d.jpg"]
    assert _cache(engine)["I/b.jpg"] == "https://drive.google.com/file/d/b/view"

    # Not found a day ago: looked up again once (a folder shared late).
    later = T0 + timedelta(hours=2) + RETRY_NOT_FOUND_AFTER
    assert refresh_evidence_links(engine, SOURCE, drive, later - timedelta(minutes=1)) == 0
    assert refresh_evidence_links(engine, SOURCE, drive, later) == 1
    assert drive.asked[-1] == ["I/d.jpg"]

    # A path no finding holds any more is forgotten.
    _findings(engine, {"f1": ("I/a.jpg", "not_met")})
    refresh_evidence_links(engine, SOURCE, drive, later)
    assert set(_cache(engine)) == {"I/a.jpg"}


def test_a_source_with_a_template_needs_no_lookup(engine):
    drive = Drive({})
    _findings(engine, {"f1": ("I/a.jpg", "not_met")})
    templated = SourceSettings("cantho", "google", "s", evidence_url="https://x.org/f?p={path}")
    assert refresh_evidence_links(engine, templated, drive, T0) == 0
    assert drive.asked == [] and _cache(engine) == {}


def test_failing_evidence_joins_the_cached_link_and_skips_what_cannot_be_cached(engine):
    _findings(
        engine,
        {
            "f1": ("I/a.jpg", "not_met"),
            "f2": ("I/b.jpg", "partial"),
            "f3": ("I/c.jpg", "met"),
            "f4": ("I/" + "x" * 2000, "not_met"),
        },
    )
    with engine.begin() as conn:
        evidence.save_links(
            conn, "cantho", {"I/a.jpg": "https://d/a", "I/" + "x" * 2000: "https://d/x"}, T0
        )
        rows = evidence.failing_evidence(conn)
    assert [(r.item_code, r.evidence[:7], r.cached_url) for r in rows] == [
        ("X0", "I/a.jpg", "https://d/a"),
        ("X1", "I/b.jpg", None),
        ("X3", "I/" + "x" * 5, None),
    ]


def test_evidence_paths_read_the_evidence_index_not_every_finding(engine):
    """After every changed sync the source's evidence paths are read: through the partial
    index of findings that hold evidence (migration 0008), not a walk over all findings."""
    _findings(engine, {"F1": ("a.jpg", "met"), "F2": (None, "met"), "F3": ("", "not_met")})
    with engine.connect() as conn:
        assert evidence.evidence_paths(conn, "cantho") == {"a.jpg"}
        statement = evidence.evidence_paths_statement("cantho")
        compiled = statement.compile(conn, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: force the choice
        plan = " ".join(map(str, conn.exec_driver_sql(explain + str(compiled)).all()))
    assert "ix_findings_evidence" in plan, plan
