"""Reading AppSheet sources from Google: cheap change checks and typed values in two requests."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hqsync.config.settings import GoogleSettings
from hqsync.sync.google import (
    GoogleSourceReader,
    decode_batch,
    open_google_reader,
    tab_rows,
)
from hqsync.sync.interfaces import SourceReader
from tests.fake_google import FakeGoogle
from tests.google.conftest import READER

HOSPITALS: list[list[object]] = [
    ["hospital_id", "name", "has_obstetrics", "beds", "opened"],
    ["H01", "Bệnh viện Đa khoa Cần Thơ", True, 500, date(2001, 5, 17)],
    ["H02", "Bệnh viện Nhi", False, 120.5, None],
    ["H03", "", None, None, None, None],
]
FINDINGS: list[list[object]] = [["finding_id", "note"], ["F1", '=IMPORTXML("http://x", "//a")']]


def tuples(rows) -> tuple[tuple[object, ...], ...]:
    """Rows as tuples (the reader hands over the decoded lists)."""
    return tuple(map(tuple, rows))


@pytest.fixture
def source(fake: FakeGoogle) -> str:
    return fake.create_spreadsheet(
        "AppSheet data",
        {"Bệnh viện": HOSPITALS, "Kết quả 'chi tiết'": FINDINGS, "Other": [["x"]]},
        shared_with={READER: "reader"},
    )


def test_reader_implements_the_source_reader_protocol(
    settings: GoogleSettings, source: str
) -> None:
    assert isinstance(open_google_reader(settings, source), SourceReader)


def test_an_unchanged_source_costs_one_request(
    fake: FakeGoogle, settings: GoogleSettings, source: str
) -> None:
    reader = open_google_reader(settings, source)
    first = reader.change_marker()
    fake.reset_log()
    second = open_google_reader(settings, source)
    assert second.change_marker() == first
    assert [r.kind for r in fake.requests()] == ["drive.files.get"]
    assert second.requests_made == 1
    assert fake.requests()[0].query["fields"] == ["modifiedTime"]


def test_a_changed_source_costs_one_plus_two_requests(
    fake: FakeGoogle, settings: GoogleSettings, source: str
) -> None:
    reader = open_google_reader(settings, source)
    before = reader.change_marker()
    fake.set_values(source, "Bệnh viện", [["H04", "Bệnh viện mới"]], start="A5")
    after = reader.change_marker()
    snapshot = reader.read(["Bệnh viện", "Kết quả 'chi tiết'"])

    assert after != before and snapshot.marker == after
    assert reader.requests_made == 4  # two markers, one metadata, one values
    batch = fake.requests("values.batchGet")[-1]
    assert batch.query["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert batch.query["dateTimeRenderOption"] == ["SERIAL_NUMBER"]
    assert batch.query["prettyPrint"] == ["false"]  # a compact body: smaller, faster
    assert batch.query["ranges"] == ["'Bệnh viện'", "'Kết quả ''chi tiết'''"]
    assert tuple(snapshot.tabs["Bệnh viện"].rows[-1]) == ("H04", "Bệnh viện mới")


def test_values_arrive_typed_and_trimmed(settings: GoogleSettings, source: str) -> None:
    snapshot = open_google_reader(settings, source).read(["Bệnh viện", "Kết quả 'chi tiết'"])
    rows = tuples(snapshot.tabs["Bệnh viện"].rows)
    assert rows[0] == ("hospital_id", "name", "has_obstetrics", "beds", "opened")
    assert rows[1] == ("H01", "Bệnh viện Đa khoa Cần Thơ", True, 500, 37028)
    assert rows[2] == ("H02", "Bệnh viện Nhi", False, 120.5)
    assert rows[3] == ("H03",)
    assert tuple(snapshot.tabs["Kết quả 'chi tiết'"].rows[1]) == (
        "F1",
        '=IMPORTXML("http://x", "//a")',
    )


def test_missing_tabs_are_absent_and_the_tabs_present_are_listed(
    fake: FakeGoogle, settings: GoogleSettings, source: str
) -> None:
    reader = open_google_reader(settings, source)
    snapshot = reader.read(["Hospitals", "Bệnh viện"])
    assert set(snapshot.tabs) == {"Bệnh viện"}
    assert snapshot.available_tabs == ("Bệnh viện", "Kết quả 'chi tiết'", "Other")
    assert snapshot.marker is None  # read without a change check first

    fake.reset_log()
    nothing = reader.read(["Hospitals"])
    assert nothing.tabs == {} and [r.kind for r in fake.requests()] == ["spreadsheets.get"]


def test_interior_empty_cells_become_none(fake: FakeGoogle, settings: GoogleSettings) -> None:
    sid = fake.create_spreadsheet("s", {"T": [["a", "", "c"], [], ["", "x"]]})
    reader = GoogleSourceReader(open_google_reader(settings, sid).client, sid)
    rows = tuples(reader.read(["T"]).tabs["T"].rows)
    assert rows == (("a", None, "c"), (), (None, "x"))


def test_text_that_looks_like_empty_cells_stays_text(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    tricky = ['a,"",b', '["",""]', ',""', '""', "[", ""]
    sid = fake.create_spreadsheet("s", {"T": [tricky, ["", 'x",""']]})
    rows = tuples(open_google_reader(settings, sid).read(["T"]).tabs["T"].rows)
    assert rows == (tuple(tricky[:-1]), (None, 'x",""'))


@pytest.mark.parametrize("pretty", [False, True], ids=["compact", "pretty-printed"])
def test_a_values_body_decodes_with_empty_cells_as_none(pretty: bool) -> None:
    values = [["a", "", 1, 2.5, True, ""], ["", "", 'q,"",r'], [], ["", "x"]]
    body = {"valueRanges": [{"range": "T!A1:F4", "values": values}]}
    separators = None if pretty else (",", ":")
    content = json.dumps(body, indent=2 if pretty else None, separators=separators)
    rows = tuples(tab_rows(decode_batch(content.encode())[0]["valueRanges"][0]["values"]))
    assert rows == (
        ("a", None, 1, 2.5, True, None),
        (None, None, 'q,"",r'),
        (),
        (None, "x"),
    )


_CELLS = st.one_of(
    st.sampled_from(["", '"', '""', ',""', '[""', '\\"', 'a"', ",", "[", "]", "null"]),
    st.text(alphabet=st.sampled_from('",[]\\ aĐ'), max_size=6),
    st.integers(-3, 3),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_CELLS, max_size=5), max_size=5), st.booleans())
def test_decode_batch_says_when_no_empty_text_is_left(values: list[list[object]], pretty: bool):
    """Whatever the cells hold, rows read through `decode_batch` and `tab_rows` have every
    empty text as None and every other cell as sent, compact or pretty-printed."""
    body = {"valueRanges": [{"range": "T!A1:E5", "values": values}]}
    content = json.dumps(
        body, indent=2 if pretty else None, separators=None if pretty else (",", ":")
    )
    decoded, maybe_empty = decode_batch(content.encode())
    rows = tab_rows(decoded["valueRanges"][0]["values"], emptied=not maybe_empty)
    assert tuples(rows) == tuple(tuple(None if c == "" else c for c in row) for row in values)
    if not pretty and not any(
        c == "" or (type(c) is str and c.endswith('"')) for r in values for c in r
    ):
        assert not maybe_empty  # the usual body: rows taken as they are


def test_a_body_with_an_empty_object_key_still_decodes() -> None:
    decoded, maybe_empty = decode_batch(b'{"a":[""],"":[1,""]}')  # as it is: tab_rows empties
    assert maybe_empty
    assert decoded == {"a": [""], "": [1, ""]} and tab_rows([decoded[""]]) == ([1, None],)


@pytest.mark.parametrize("locale", ["vi_VN", "en_US", "en_AU"])
def test_the_spreadsheet_locale_comes_with_the_metadata_request(
    fake: FakeGoogle, settings: GoogleSettings, source: str, locale: str
) -> None:
    fake.spreadsheets[source].properties["locale"] = locale
    fake.reset_log()
    snapshot = open_google_reader(settings, source).read(["Bệnh viện"])
    assert snapshot.locale == locale
    assert [r.kind for r in fake.requests()] == ["spreadsheets.get", "values.batchGet"]
    assert "properties.locale" in fake.requests("spreadsheets.get")[0].query["fields"][0]
