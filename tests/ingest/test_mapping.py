"""Mapped fields are checked against the sheet contract when a source is read."""

from __future__ import annotations

import pytest

from hqsync.config.errors import ConfigError
from hqsync.sync.ingest.mapping import check_mapped_fields

# The findings fields of the sheet contract (sync/normalise.py FIELDS at e70d50c).
KNOWN = {
    "findings": (
        "finding_id",
        "assessment_id",
        "item_code",
        "result",
        "note",
        "evidence",
        "updated_at",
    )
}


def test_known_fields_pass():
    check_mapped_fields(
        "cantho", {"findings": {"finding_id": "Row ID", "result": "Đánh giá"}}, KNOWN
    )
    check_mapped_fields("cantho", {}, KNOWN)


def test_an_unknown_field_names_its_key_and_the_known_ones():
    with pytest.raises(ConfigError) as caught:
        check_mapped_fields("cantho", {"findings": {"reslt": "Đánh giá"}}, KNOWN)
    message = str(caught.value)
    assert "sources[cantho].columns.findings.reslt" in message
    assert "finding_id, assessment_id, item_code, result" in message
