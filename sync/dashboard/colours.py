"""The dashboard's colours: the level palette spread over 1..max_level, bands, pass and fail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hqsync.config.vocabulary import DueState, levels_of
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.dashboard.document import ValueColour
from hqsync.sync.dashboard.loader import is_missing

LEVEL_COLOURS = {1: "#F8696B", 2: "#FCAA78", 3: "#FFEB84", 4: "#B1D580", 5: "#63BE7B"}
"""The level palette, worst to best; exactly the colours of levels 1–5 on a five-level scale."""
DEFAULT_MAX_LEVEL = len(LEVEL_COLOURS)
"""The levels shown when no levels rule set is configured."""
PASS_COLOUR, FAIL_COLOUR, RISK_COLOUR = "#C6EFCE", "#FFC7CE", "#FFC7CE"
BAND_PALETTE = ("#63BE7B", "#B1D580", "#FFEB84", "#FCAA78", "#F8696B")
DUE_COLOURS = {
    DueState.OVERDUE: "#FFC7CE",
    DueState.DUE_SOON: "#FFEB9C",
    DueState.LATE: "#FCE4D6",
    DueState.DONE: "#C6EFCE",
}
"""A Progress tab's deadline status by its due state (pending: no colour)."""
PROGRESS_TOTAL_COLOUR = "#DDEBF7"
"""The Progress tab's counts rows (one per standard, above the hospitals)."""
LEVEL_COUNT_MAX = 10_000
"""Upper bound of the level-count colour rule (far above any catalog's size)."""


def level_colour(level: int, max_level: int = DEFAULT_MAX_LEVEL) -> str:
    """The colour of `level` on a scale of 1..max_level: the palette spread over the scale.

    Level 1 has the palette's first colour and `max_level` its last; a level in between has
    the colour at its fraction of the scale, mixed from the two palette colours around it. On
    a five-level scale each level has exactly its `LEVEL_COLOURS` colour.
    """
    if not 1 <= level <= max_level:
        raise ValueError(f"level {level} is not within 1..{max_level}")
    palette = [LEVEL_COLOURS[n] for n in sorted(LEVEL_COLOURS)]
    if max_level == 1:
        return palette[-1]
    position = (level - 1) * (len(palette) - 1) / (max_level - 1)
    below = int(position)
    if below == position:
        return palette[below]
    return _mix(palette[below], palette[below + 1], position - below)


def _mix(low: str, high: str, fraction: float) -> str:
    """'#RRGGBB' `fraction` of the way from `low` to `high`."""
    channels = (
        round(int(low[i : i + 2], 16) * (1 - fraction) + int(high[i : i + 2], 16) * fraction)
        for i in (1, 3, 5)
    )
    return "#" + "".join(f"{c:02X}" for c in channels)


def level_colours(
    columns: tuple[int, ...], max_level: int = DEFAULT_MAX_LEVEL
) -> tuple[ValueColour, ...]:
    """Colour levels 1..max_level in `columns` by value (conditional formatting, not fills)."""
    if not columns:
        return ()
    return tuple(
        ValueColour(columns, level_colour(level, max_level), level)
        for level in levels_of(max_level)
    )


def band_colour(record: Mapping[str, Any], rule_set: RuleSet | None) -> str | None:
    """The fill of an assessment's band: its place in the rule set's bands (best first) on
    `BAND_PALETTE`, else pass/fail; None when it has neither."""
    passed = record.get("passed")
    band = record.get("band")
    names = [b.label for b in rule_set.bands] if rule_set else []  # best first
    if not is_missing(band) and str(band) in names:
        position = names.index(str(band))
        scale = max(len(names) - 1, 1)
        return BAND_PALETTE[round(position * (len(BAND_PALETTE) - 1) / scale)]
    if not is_missing(passed):
        return PASS_COLOUR if passed else FAIL_COLOUR
    return None
