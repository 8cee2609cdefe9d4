"""`dumps_indented` writes exactly the text of `json.dumps(value, indent=…)`."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hqsync.jobs.json_text import dumps_indented

NASTY: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**70,
    -(2**64) - 1,
    0.1,
    1e-7,
    -0.0,
    1e300,
    5.0,
    math.nan,
    math.inf,
    -math.inf,
    "",
    "Bệnh viện Đa khoa Thành phố — tiêu chí A1.1",
    'quote " backslash \\ slash /',
    "control \x00 \x01 \x1f \x7f tab\t cr\r lf\n",
    "emoji 🏥 and a lone surrogate \ud800",
    "\u2028\u2029",
    {},
    [],
    (),
    {"": ""},
    {"a": {}},
    {"a": []},
    [{}],
    [[]],
    [[], {}, [[]], [{}]],
    {"a": {"b": {"c": {}}}},
    [[[[1]]]],
    (1, (2, 3), [4, {"x": (5,)}]),
    {7: "int key", 2.5: "float key", True: "bool key", False: "", None: "none key", "s": "str"},
    {math.nan: 1, math.inf: 2, -0.0: 3},
    {
        "assessment_id": "DG00000",
        "hospital_name": "Bệnh viện số 0",
        "score": 1.06,
        "passed": None,
        "complete": True,
        "level_counts": {"1": 80, "2": 2, "3": 0, "4": 1, "5": 0},
        "criteria": {"A1.1": 1, "C10.2": "not_applicable"},
        "details": {
            "incomplete": [],
            "coverage": {"items_expected": None, "percent": 100.0},
            "next_level_wins": [{"code": "C5.4", "gap_count": 1, "unanswered": False}],
        },
    },
]


@pytest.mark.parametrize("ensure_ascii", [False, True])
@pytest.mark.parametrize("indent", [2, 0, 4])
@pytest.mark.parametrize("value", NASTY, ids=repr)
def test_the_text_is_json_dumps_text(value, indent, ensure_ascii):
    expected = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)
    assert dumps_indented(value, indent=indent, ensure_ascii=ensure_ascii) == expected
    # Nested one and two levels deeper, beside scalars and empty containers.
    deeper = {"x": [value, {"y": value}], "z": 1, "e": {}}
    expected = json.dumps(deeper, indent=indent, ensure_ascii=ensure_ascii)
    assert dumps_indented(deeper, indent=indent, ensure_ascii=ensure_ascii) == expected


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
)
keys = st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none())
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=5).map(tuple),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(values, st.booleans())
def test_any_json_value_gives_json_dumps_text(value, ensure_ascii):
    expected = json.dumps(value, indent=2, ensure_ascii=ensure_ascii)
    assert dumps_indented(value, ensure_ascii=ensure_ascii) == expected


def test_what_json_dumps_refuses_is_refused_alike():
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_indented({"a": [object()]})
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_indented({"a": [[1], object()]})
    with pytest.raises(TypeError, match="keys must be str"):
        dumps_indented({"a": {(1, 2): 1}})
    with pytest.raises(TypeError, match="keys must be str"):
        dumps_indented({(1, 2): [1]})
    loop: list[Any] = [1]
    loop.append([loop])
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented(loop)
