"""AppSheet's relative evidence paths resolved to Drive links, against the fake's Drive v3:
the fake answers `files.get`/`files.list` as Google does, and the resolver's requests stay few."""

from __future__ import annotations

import pytest
import requests

from hqsync.config.errors import GoogleError
from hqsync.config.settings import GoogleSettings
from hqsync.sync.google import open_google_reader
from hqsync.sync.google.drive import FOLDER_MIME, drive_path, query_text
from tests.fake_google import FakeGoogle
from tests.google.conftest import READER

NO_SLEEP = lambda _s: None  # noqa: E731
QUOTED = 'it\'s "ảnh" số 1 \\ x.jpg'


@pytest.fixture
def app(fake: FakeGoogle):
    """An AppSheet app's folder (shared with the reader) holding the sheet and its image folder."""
    folder = fake.add_folder("Inspections-123", shared_with={READER})
    sheet = fake.create_spreadsheet("Inspections", {"Findings": []}, shared_with={READER: "reader"})
    fake.move_to_folder(sheet, folder)
    images = fake.add_folder("Findings_Images", folder)
    photos = {name: fake.add_drive_file(name, images) for name in ("a.jpg", "b.Ảnh.jpg", QUOTED)}
    # Decoys: the same names elsewhere must never be linked.
    elsewhere = fake.add_folder("Findings_Images", None)
    fake.add_drive_file("a.jpg", elsewhere)
    other = fake.add_folder("Other_Images", folder)
    photos["other a.jpg"] = fake.add_drive_file("a.jpg", other)
    return sheet, folder, images, photos


def _drive_lookups(fake: FakeGoogle) -> list[str]:
    return [
        r.kind
        for r in fake.requests()
        if r.kind == "drive.files.list"
        or (r.kind == "drive.files.get" and "parents" in r.query.get("fields", [""])[0])
    ]


def test_paths_resolve_to_their_files_in_the_folder_beside_the_sheet(
    fake: FakeGoogle, settings: GoogleSettings, app
):
    sheet, _folder, _images, photos = app
    reader = open_google_reader(settings, sheet, sleep=NO_SLEEP)
    paths = [
        "Findings_Images/a.jpg",
        "Findings_Images/b.Ảnh.jpg",
        f"Findings_Images/{QUOTED}",
        "Findings_Images/missing.jpg",
        "Other_Images/a.jpg",
        "Nowhere_Images/a.jpg",
        "a.jpg",
        "x/y/z.jpg",
    ]
    links = reader.resolve_evidence(paths)
    assert links == {
        "Findings_Images/a.jpg": fake.web_view_link(photos["a.jpg"]),
        "Findings_Images/b.Ảnh.jpg": fake.web_view_link(photos["b.Ảnh.jpg"]),
        f"Findings_Images/{QUOTED}": fake.web_view_link(photos[QUOTED]),
        "Findings_Images/missing.jpg": None,
        "Other_Images/a.jpg": fake.web_view_link(photos["other a.jpg"]),
        "Nowhere_Images/a.jpg": None,
        "a.jpg": None,
        "x/y/z.jpg": None,
    }
    assert _drive_lookups(fake) == ["drive.files.get", "drive.files.list", "drive.files.list"]


def test_listing_pages_through_a_large_folder_in_few_requests(
    fake: FakeGoogle, settings: GoogleSettings, app
):
    sheet, _folder, images, _photos = app
    last = None
    for n in range(2100):
        last = fake.add_drive_file(f"p{n:04d}.jpg", images)
    reader = open_google_reader(settings, sheet, sleep=NO_SLEEP)
    links = reader.resolve_evidence(["Findings_Images/p2099.jpg", "Findings_Images/p0000.jpg"])
    assert links["Findings_Images/p2099.jpg"] == fake.web_view_link(last)
    assert links["Findings_Images/p0000.jpg"] is not None
    # 1 get + 1 folder listing + 3 pages of 1,000 children (2,103 files)
    assert _drive_lookups(fake) == ["drive.files.get"] + ["drive.files.list"] * 4


def test_a_sheet_whose_folder_is_not_shared_costs_one_request_and_links_nothing(
    fake: FakeGoogle, settings: GoogleSettings
):
    private = fake.add_folder("Inspections-123", shared_with=set())
    sheet = fake.create_spreadsheet("S", {"Findings": []}, shared_with={READER: "reader"})
    fake.move_to_folder(sheet, private)
    fake.add_drive_file("a.jpg", fake.add_folder("Findings_Images", private))
    reader = open_google_reader(settings, sheet, sleep=NO_SLEEP)
    assert reader.resolve_evidence(["Findings_Images/a.jpg"]) == {"Findings_Images/a.jpg": None}
    assert _drive_lookups(fake) == ["drive.files.get"]


def test_paths_that_cannot_be_files_cost_no_request(
    fake: FakeGoogle, settings: GoogleSettings, app
):
    sheet, *_ = app
    reader = open_google_reader(settings, sheet, sleep=NO_SLEEP)
    hostile = ['=HYPERLINK("http://evil.example/","x")', "a.jpg", "", "../x"]
    assert reader.resolve_evidence(hostile) == dict.fromkeys(hostile)
    assert _drive_lookups(fake) == []


def test_a_drive_failure_is_a_google_error(fake: FakeGoogle, settings: GoogleSettings, app):
    sheet, *_ = app
    fake.disabled_apis.add("drive")
    reader = open_google_reader(settings, sheet, sleep=NO_SLEEP)
    with pytest.raises(GoogleError, match="Drive API"):
        reader.resolve_evidence(["Findings_Images/a.jpg"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Findings_Images/a.jpg", ("Findings_Images", "a.jpg")),
        (
            " Chi tiết đánh giá_Images/3c2b.Ảnh.093512.png ",
            ("Chi tiết đánh giá_Images", "3c2b.Ảnh.093512.png"),
        ),
        ("a.jpg", None),
        ("a/b/c.jpg", None),
        ("/a.jpg", None),
        ("../a.jpg", None),
        ("Findings_Images/", None),
    ],
)
def test_drive_path(path, expected):
    assert drive_path(path) == expected


# --- the fake behaves like Drive ------------------------------------------------------------


def _get(fake: FakeGoogle, path: str, **params: str) -> requests.Response:
    token = fake.issue_token(READER, ["https://www.googleapis.com/auth/drive.metadata.readonly"])
    return requests.get(
        f"{fake.drive_base}/drive/v3/files{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def test_the_fake_lists_by_parent_name_and_mime_type_a_page_at_a_time(fake: FakeGoogle, app):
    _sheet, folder, images, photos = app
    q = f"'{images}' in parents and mimeType != '{FOLDER_MIME}' and trashed = false"
    first = _get(fake, "", q=q, pageSize="2", fields="nextPageToken,files(id,name)").json()
    assert [f["name"] for f in first["files"]] == ["a.jpg", "b.Ảnh.jpg"]
    second = _get(fake, "", q=q, pageSize="2", pageToken=first["nextPageToken"]).json()
    assert [f["name"] for f in second["files"]] == [QUOTED]
    assert "nextPageToken" not in second
    assert set(second["files"][0]) == {"kind", "id", "name", "mimeType"}
    by_name = _get(fake, "", q=f"{query_text('Findings_Images')} = name and '{folder}' in parents")
    assert by_name.status_code == 400  # `'x' = name` is not Drive's syntax
    named = _get(
        fake,
        "",
        q=f"name = {query_text(QUOTED)} and ('{images}' in parents or 'x' in parents)",
        fields="files(id,webViewLink)",
    ).json()
    assert named["files"] == [
        {"id": photos[QUOTED], "webViewLink": fake.web_view_link(photos[QUOTED])}
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "name contains 'a'"},
        {"q": "'x' in parents and"},
        {"q": "name = 'unterminated"},
        {"pageSize": "1001"},
        {"pageSize": "0"},
        {"pageToken": "bm90LWEtdG9rZW4="},
    ],
)
def test_the_fake_refuses_what_drive_refuses(fake: FakeGoogle, params):
    answer = _get(fake, "", **params)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Invalid Value"


def test_the_fake_shows_only_parents_the_caller_can_see(fake: FakeGoogle, app):
    sheet, folder, *_ = app
    assert _get(fake, f"/{sheet}", fields="parents").json() == {"parents": [folder]}
    fake.drive_files[folder].shared_with = set()
    assert _get(fake, f"/{sheet}", fields="parents").json() == {"parents": []}
    assert _get(fake, f"/{folder}", fields="id").status_code == 404
