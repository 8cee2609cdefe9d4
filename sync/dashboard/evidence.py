"""Evidence links of the dashboard's gaps: which link an evidence cell gets, and the cells.

One rule for every dashboard (`evidence_link`): a cell that already holds a URL is linked as it
is when it is http(s), and never otherwise; a relative path (AppSheet's `<Table>_Images/<file>`)
goes through the source's `evidence_url` template when it has one (the path URL-encoded), else
to the link cached for it in the store (its Drive file, `hqsync.sync.evidence`). A gap row links
the evidence of its failing findings, one `Link` per cell, text = the sub-item's code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from hqsync.config.settings import SourceSettings
from hqsync.config.utils import format_link, http_link
from hqsync.models.evidence import FailingEvidence
from hqsync.sync.dashboard.document import Column, Link

EvidenceIndex = Mapping[tuple[str, str], tuple[str, ...]]
"""(assessment key, sub-item code) → the links of that finding's evidence, in order."""

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
"""A cell starting like `scheme:` holds a URL (`https:`, `javascript:`, `data:`), not a path."""
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:[\\/]")


def is_url(evidence: str) -> bool:
    """True when an evidence cell holds a URL of any scheme rather than a relative path."""
    text = evidence.strip()
    return bool(_SCHEME.match(text)) and not _DRIVE_LETTER.match(text)


def evidence_link(
    evidence: str, *, template: str | None, tab: str, cached: str | None
) -> str | None:
    """The link of one evidence cell, or None: never anything but an http(s) URL.

    A URL is used as it is if http(s) and dropped otherwise; a path is formatted into
    `template` (URL-encoded) when there is one, else gets its `cached` (Drive) link."""
    text = evidence.strip()
    if not text:
        return None
    if is_url(text):
        return http_link(text)
    if template is not None:
        return format_link(template, text, tab)
    return http_link(cached) if cached else None


def evidence_index(
    rows: Iterable[FailingEvidence], sources: Sequence[SourceSettings]
) -> dict[tuple[str, str], tuple[str, ...]]:
    """The links of failing findings' evidence by (assessment key, sub-item code), each source's
    cells read with its own template and findings tab name."""
    # Imported here: `models.results` loads pandas, and a sync imports this module (`is_url`).
    from hqsync.models.results import make_key

    settings = {s.name: s for s in sources}
    found: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        source = settings.get(row.source)
        url = evidence_link(
            row.evidence,
            template=source.evidence_url if source else None,
            tab=source.tabs.findings if source else "",
            cached=row.cached_url,
        )
        if url is not None:
            links = found.setdefault((make_key(row.source, row.assessment_id), row.item_code), [])
            if url not in links:
                links.append(url)
    return {key: tuple(urls) for key, urls in found.items()}


def gap_links(
    index: EvidenceIndex, assessment_key: str, codes: Iterable[object]
) -> tuple[Link, ...]:
    """The links of a gap's failing sub-items (`codes`, in order), each shown as its code."""
    return tuple(
        Link(str(code), url) for code in codes for url in index.get((assessment_key, str(code)), ())
    )


def evidence_key(number: int) -> str:
    """The key of a gaps table's `number`th (1-based) evidence column."""
    return f"evidence_{number}"


def evidence_columns(
    labels: Mapping[str, str], links: Iterable[Sequence[Link]]
) -> list[tuple[str, Column]]:
    """Keyed columns for as many evidence links as the longest of `links` (one per gap row)."""
    count = max((len(row) for row in links), default=0)
    return [
        (evidence_key(n), Column(f"{labels['evidence']} {n}", width=14))
        for n in range(1, count + 1)
    ]


def evidence_cells(links: Sequence[Link]) -> dict[str, Link]:
    """A gap row's link cells by evidence column key."""
    return {evidence_key(n): link for n, link in enumerate(links, start=1)}
