"""Replays real recorded Google exchanges against the fake and compares the answers' structure.

The cassettes (`tests/fake_google/cassettes`, from gspread's test suite) are ground truth:
status codes, which keys appear (zero-valued fields left out), value types, range quoting,
trimming of empty cells and rows, and values under each render option must all match.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from tests.fake_google import FakeGoogle

CASSETTES = Path(
    os.environ.get("HQSYNC_CASSETTES", Path(__file__).parents[1] / "fake_google" / "cassettes")
)
PRIVATE_ID = "1jIKzPs8LsiZZdLdeMEP-5ZIHw6RkjiOmj1LrJN706Yc"
EXACT_KEYS = {"range", "majorDimension", "values", "clearedRange", "updatedRange"}
"""Keys whose values must be equal, not just of the same type."""
NOT_EXACT_UNDER = {"updates"}
"""Append replies: Google's table detection picks surprising ranges; compare only shapes there."""

CASSETTE_FILES = sorted(CASSETTES.glob("*.json"))


def shape(value: Any, exact: bool = False, key: str | None = None) -> Any:
    """The structure of a JSON value: dict keys, list lengths, value types (and some values)."""
    if key in EXACT_KEYS and exact:
        return value
    if isinstance(value, dict):
        keep = exact and key not in NOT_EXACT_UNDER
        return {k: shape(v, keep, k) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v, exact) for v in value]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


class Replayer:
    """Sends a cassette's requests to the fake, translating recorded ids to the fake's."""

    def __init__(self, fake: FakeGoogle) -> None:
        self.fake = fake
        self.token = fake.issue_token(
            "replay@hqsync-test.iam.gserviceaccount.com",
            [
                "https://www.googleapis.com/auth/spreadsheets",
                "https://www.googleapis.com/auth/drive",
            ],
        )
        self.ids: dict[str, str] = {}
        self.sheet_ids: dict[int, int] = {}
        private = fake.create_spreadsheet("someone else's", shared_with={})
        self.ids[PRIVATE_ID] = private

    def translate(self, text: str) -> str:
        for recorded, ours in self.ids.items():
            text = text.replace(recorded, ours)
        return text

    def translate_body(self, body: Any) -> Any:
        if isinstance(body, dict):
            return {k: self.translate_body(v) for k, v in body.items()}
        if isinstance(body, list):
            return [self.translate_body(v) for v in body]
        if isinstance(body, bool):
            return body
        if isinstance(body, int) and body in self.sheet_ids:
            return self.sheet_ids[body]
        if isinstance(body, str):
            return self.translate(body)
        return body

    def url(self, uri: str) -> str:
        parts = urlsplit(uri)
        base = (
            self.fake.drive_base if parts.netloc == "www.googleapis.com" else self.fake.sheets_base
        )
        path = quote(self.translate(unquote(parts.path)), safe="/:!'")
        query = f"?{self.translate(parts.query)}" if parts.query else ""
        return base + path + query

    def learn(self, recorded: Any, ours: Any) -> None:
        """Map ids the recording assigned (new files, new sheets) to the ones the fake did."""
        if not isinstance(recorded, dict) or not isinstance(ours, dict):
            return
        if recorded.get("kind") == "drive#file" and "id" in ours and "mimeType" in recorded:
            self.ids.setdefault(recorded["id"], ours["id"])
        for mine, theirs in zip(ours.get("replies", []), recorded.get("replies", []), strict=False):
            if "addSheet" in theirs and "addSheet" in mine:
                old = theirs["addSheet"]["properties"]["sheetId"]
                self.sheet_ids[old] = mine["addSheet"]["properties"]["sheetId"]


def _interactions(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["interactions"]


@pytest.mark.skipif(not CASSETTE_FILES, reason=f"no cassettes in {CASSETTES}")
@pytest.mark.parametrize("cassette", CASSETTE_FILES, ids=lambda p: p.stem)
def test_fake_answers_like_google(cassette: Path) -> None:
    fake = FakeGoogle()
    replay = Replayer(fake)
    compared = 0
    for number, interaction in enumerate(_interactions(cassette)):
        request, response = interaction["request"], interaction["response"]
        body = request.get("body")
        if body:
            body = json.dumps(replay.translate_body(json.loads(body)))
        answer = fake.handle(
            request["method"],
            replay.url(request["uri"]),
            {"Authorization": f"Bearer {replay.token}"},
            body,
        )
        where = f"{cassette.name} #{number}: {request['method']} {request['uri'][:120]}"
        assert answer.status == response["status"]["code"], where
        recorded_text = response["body"]["string"]
        if not recorded_text:
            assert answer.body == b"", where
            continue
        recorded = json.loads(recorded_text)
        ours = json.loads(answer.body)
        replay.learn(recorded, ours)
        assert shape(ours, exact=True) == shape(recorded, exact=True), where
        compared += 1
    assert compared > 0


def test_replayer_translates_quoted_ranges_and_ids() -> None:
    fake = FakeGoogle()
    replay = Replayer(fake)
    replay.ids["abc"] = "xyz"
    url = replay.url("https://sheets.googleapis.com/v4/spreadsheets/abc/values/%27Sheet1%27%21A1")
    assert url == f"{fake.sheets_base}/v4/spreadsheets/xyz/values/'Sheet1'!A1"
    assert re.match(r"https://drive\.", replay.url("https://www.googleapis.com/drive/v3/files/abc"))


def test_all_recorded_exchanges_are_replayed() -> None:
    assert len(CASSETTE_FILES) == 20
