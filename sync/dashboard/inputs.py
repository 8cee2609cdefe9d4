"""What each dashboard is built from, as one digest per dashboard: a publish builds (and then
fingerprints) only the dashboards whose input digest differs from the one stored after their
last publish, so an unchanged country costs a few hashes, not 1,700 builds.

A hospital's digest covers every value its dashboard reads (`build_hospital_dashboard`): its
scores, comparisons, criterion results, hospital rows, failing findings, evidence links,
rejected rows, its sources' failures and its own cycle states (with the day, when it has
some: "due in N days" changes daily); the province medians of its standards (a median
that moves changes every hospital of that standard); and what every dashboard shares: the rule
sets' fingerprints, the language, the time zone, hqsync's version, the dashboard package's own
code, and every `DashboardData` field not split per hospital below (`PER_HOSPITAL`), so a
field added later counts for every hospital until it is split. The overview's digest covers
every field of `DashboardData`. The time of the last sync is left out of both: it is shown
only as an About time, which does not count as a change (see `content_fingerprint`).

A digest is a cache key, never a substitute for the content fingerprint: a dashboard whose
inputs changed is built and still written only when its content changed.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype
from pandas.util import hash_array

from hqsync.sync.dashboard.hospital import HospitalViews
from hqsync.sync.dashboard.loader import DashboardData
from hqsync.sync.dashboard.progress import hospital_progress_inputs

PER_HOSPITAL = frozenset(
    {
        "scores",
        "criteria",
        "comparisons",
        "hospitals",
        "rejected",
        "evidence",
        "source_failures",
        "cycles",
    }
)
"""The `DashboardData` fields a hospital's digest takes only its own part of."""

NOT_CONTENT = frozenset({"last_sync"})
"""Fields shown only as About times: left out of every digest."""


@cache
def code_digest() -> str:
    """The sha256 of the dashboard package's source files and hqsync's version: a new
    dashboard code rebuilds every dashboard once."""
    digest = hashlib.sha256()
    try:
        digest.update(metadata.version("hqsync").encode())
    except metadata.PackageNotFoundError:  # running from a source tree without install
        digest.update(b"unknown")
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of `frame`, the same in every process (its column names count
    too, in the caller)."""
    if frame.empty:
        return np.zeros(len(frame), dtype=np.uint64)
    columns = []
    for name in frame.columns:
        values = frame[name].to_numpy()
        if values.dtype == object and infer_dtype(values, skipna=True) not in ("string", "empty"):
            # numbers, dates, dicts, lists: hashed by their repr (stable for one loader)
            values = np.array([repr(v) for v in values.tolist()], dtype=object)
        columns.append(hash_array(values, categorize=False))
    combined = pd.DataFrame(dict(enumerate(columns)))
    return pd.util.hash_pandas_object(combined, index=False).to_numpy(dtype=np.uint64)


class RowHashes:
    """`row_hashes` of each frame seen, computed once (the overview's digest and the
    hospitals' hash the same frames)."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[pd.DataFrame, np.ndarray]] = {}

    def of(self, frame: pd.DataFrame) -> np.ndarray:
        """The frame's row hashes."""
        found = self._seen.get(id(frame))
        if found is None or found[0] is not frame:
            found = (frame, row_hashes(frame))  # the frame is kept: its id stays its own
            self._seen[id(frame)] = found
        return found[1]


def _value_bytes(value: Any, hashes: RowHashes) -> bytes:
    """A field's bytes for a digest: frames hashed row by row, everything else by repr."""
    if isinstance(value, pd.DataFrame):
        return repr(list(value.columns)).encode() + hashes.of(value).tobytes()
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: repr(kv[0]))
        return repr([(k, getattr(v, "fingerprint", v)) for k, v in items]).encode()
    return repr(value).encode()


def _shared(
    data: DashboardData, language: str, timezone: str, skip: Iterable[str], hashes: RowHashes
) -> bytes:
    """What every dashboard's digest holds: settings, code, and the `data` fields not skipped."""
    parts = [language.encode(), timezone.encode(), code_digest().encode()]
    for item in fields(data):
        if item.name not in skip:
            value = _value_bytes(getattr(data, item.name), hashes)
            parts.append(item.name.encode() + b"=" + value)
    return b"\x00".join(parts)


def overview_input_digest(
    data: DashboardData, language: str, timezone: str, hashes: RowHashes | None = None
) -> str:
    """The digest of everything the overview is built from (`hashes`: shared with the
    hospitals' digests of the same publish)."""
    shared = _shared(data, language, timezone, NOT_CONTENT, hashes or RowHashes())
    return hashlib.sha256(shared).hexdigest()


def hospital_input_digests(
    views: HospitalViews,
    failing: pd.DataFrame,
    hospital_ids: Iterable[str],
    *,
    language: str,
    timezone: str,
    hashes: RowHashes | None = None,
) -> dict[str, str]:
    """hospital_id → the digest of everything its own dashboard is built from (`failing`: the
    failing findings `views` was indexed with; `hashes`: shared with the overview's digest)."""
    data = views.data
    hashes = hashes or RowHashes()
    shared = _shared(data, language, timezone, PER_HOSPITAL | NOT_CONTENT, hashes)
    owner = (
        dict(zip(data.scores["assessment_key"], data.scores["hospital_id"], strict=True))
        if len(data.scores)
        else {}
    )
    parts: dict[str, list[bytes]] = defaultdict(list)
    for name, frame, column in (
        ("scores", data.scores, "hospital_id"),
        ("hospitals", data.hospitals, "hospital_id"),
        ("comparisons", data.comparisons, "assessment_key"),
        ("criteria", data.criteria, "assessment_key"),
        ("failing", failing, "assessment_key"),
    ):
        if frame.empty:
            continue
        owners = frame[column] if column == "hospital_id" else frame[column].map(owner)
        head = name.encode() + repr(list(frame.columns)).encode()
        for hospital, rows in _split(hashes.of(frame), owners):
            parts[hospital].append(head + rows.tobytes())
    evidence: dict[str, list[Any]] = defaultdict(list)
    for (key, code), urls in sorted(data.evidence.items()):
        if key in owner:
            evidence[str(owner[key])].append((key, code, urls))
    for hospital, links in evidence.items():
        parts[hospital].append(b"evidence" + repr(links).encode())
    for hospital, rejected in views.rejected.items():
        parts[hospital].append(b"rejected" + repr(rejected).encode())
    medians = _medians_by_standard(views)
    standards = _standards_by_hospital(data)
    sources = _sources_by_hospital(data)
    failures = {f.source: f for f in data.source_failures}
    digests: dict[str, str] = {}
    for hospital in hospital_ids:
        digest = hashlib.sha256(shared)
        for part in parts.get(hospital, ()):
            digest.update(b"\x00" + part)
        for standard in sorted(standards.get(hospital, ())):
            digest.update(b"\x00median" + medians.get(standard, b""))
        mine = [failures[s] for s in sorted(sources.get(hospital, ())) if s in failures]
        digest.update(b"\x00failures" + repr(mine).encode())
        progress = hospital_progress_inputs(data.cycles, hospital)
        digest.update(b"\x00cycles" + repr(progress).encode())
        digests[hospital] = digest.hexdigest()
    return digests


def _split(hashes: np.ndarray, owners: pd.Series) -> Iterator[tuple[str, np.ndarray]]:
    """Each owner's row hashes, in row order (rows without an owner left out)."""
    codes, uniques = pd.factorize(owners, sort=False)
    order = np.argsort(codes, kind="stable")
    order = order[codes[order] >= 0]
    bounds = np.cumsum(np.bincount(codes[codes >= 0], minlength=len(uniques)))
    start = 0
    for index, end in enumerate(bounds):
        yield str(uniques[index]), hashes[order[start:end]]
        start = int(end)


def _medians_by_standard(views: HospitalViews) -> dict[str, bytes]:
    """standard → the digest of the province medians of its criteria (every kind)."""
    grouped: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for (standard, kind, code), median in views.medians.medians.items():
        grouped[standard].append((kind, code, median))
    return {s: hashlib.sha256(repr(sorted(v)).encode()).digest() for s, v in grouped.items()}


def _standards_by_hospital(data: DashboardData) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    if len(data.scores):
        for hospital, standard in zip(
            data.scores["hospital_id"], data.scores["standard"], strict=True
        ):
            found[str(hospital)].add(str(standard))
    return found


def _sources_by_hospital(data: DashboardData) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for frame in (data.hospitals, data.scores):
        if len(frame):
            for hospital, source in zip(frame["hospital_id"], frame["source"], strict=True):
                found[str(hospital)].add(str(source))
    return found


__all__ = [
    "RowHashes",
    "code_digest",
    "hospital_input_digests",
    "overview_input_digest",
    "row_hashes",
]
