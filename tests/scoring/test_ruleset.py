"""The rule-set model: item codes, standard names, levels."""

from __future__ import annotations

import pytest

from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.vocabulary import Method
from hqsync.scoring import Band, RuleSet, report_levels, resolve_standard
from tests.scoring.factories import levels_rule_set


@pytest.fixture(scope="module")
def rule_sets():
    return load_rule_sets()


@pytest.mark.parametrize(
    ("standard", "typed", "expected"),
    [
        ("QD6858", " a1.1-2.12", "A1.1-2.12"),
        ("QD6858", "A1.1 - 2.12", "A1.1-2.12"),
        ("QD6858", "c10.2-5.03", "C10.2-5.3"),
        ("QD6858", "E2.1-1.1", "E2.1-1.1"),
        ("QD6858", "A1.1-6.1", None),  # no level 6
        ("QD6858", "A1.1-0.1", None),
        ("QD6858", "A1.1-2.0", None),  # items count from 1
        ("QD6858", "A1.7-2.1", None),  # no such criterion
        ("QD6858", "A1.1", None),
        ("QD6858", "", None),
        ("TT35", "1.3.1", "1.3.1"),
        ("TT35", " 5.4.6 ", "5.4.6"),
        ("TT35", "1.3", None),
        ("TT35", "A1.1-2.1", None),
        ("JCI-DEMO", "ipsg.1-me2", "IPSG.1-ME2"),
        ("JCI-DEMO", "IPSG.1-ME9", None),
    ],
)
def test_canonical_item(rule_sets, standard, typed, expected):
    assert rule_sets[standard].canonical_item(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("QD6858", "QD6858"),
        ("QĐ 6858", "QD6858"),
        ("qd-6858", "QD6858"),
        ("QĐ 6858/QĐ-BYT", "QD6858"),
        ("Quyết định 6858", "QD6858"),
        ("TT35", "TT35"),
        ("TT 35/2024", "TT35"),
        ("tt35/2024/tt-byt", "TT35"),
        ("Thông tư 35", "TT35"),
        ("THÔNG TƯ 35/2024/TT-BYT", "TT35"),
        ("jci-demo", "JCI-DEMO"),
        ("TT 36", None),
        ("6859", None),
        ("", None),
        ("  ", None),
    ],
)
def test_resolve_standard(rule_sets, typed, expected):
    found = resolve_standard(rule_sets, typed)
    assert (found.id if found else None) == expected


def test_levels_follow_max_level_and_only_the_levels_method_has_levels(rule_sets):
    assert rule_sets["QD6858"].levels == (1, 2, 3, 4, 5)
    assert rule_sets["TT35"].levels == ()
    assert rule_sets["JCI-DEMO"].levels == ()
    seven = levels_rule_set(max_level=7)
    assert seven.levels == (1, 2, 3, 4, 5, 6, 7)
    assert seven.canonical_item("k1.2-7.1") == "K1.2-7.1"
    assert seven.canonical_item("K1.2-8.1") is None
    assert report_levels(rule_sets.values()) == (1, 2, 3, 4, 5)
    assert report_levels([*rule_sets.values(), seven]) == seven.levels
    assert report_levels([rule_sets["TT35"]]) == ()


def test_a_rule_set_built_in_memory_resolves_by_name_and_alias():
    built = RuleSet(
        id="CX",
        name="Council X",
        method=Method.CHECKLIST,
        fingerprint="f",
        aliases=("Hội đồng X",),
        bands=(Band(min=90, label="good"),),
    )
    assert resolve_standard({"CX": built}, "hoi-dong x") is built
    assert resolve_standard({"CX": built}, "COUNCIL x") is built
    assert not built.accepts_partial and built.total == 0
