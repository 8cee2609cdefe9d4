"""`[[sources]] evidence_url`: a link template, checked when the config is read."""

from __future__ import annotations

import pytest

from hqsync.config.errors import ConfigError
from hqsync.config.settings import settings_from_mapping

TEMPLATE = (
    "https://www.appsheet.com/template/gettablefileurl?appName=A-1&tableName={tab}&fileName={path}"
)


def _source(**extra: object) -> dict[str, object]:
    return {"sources": [{"name": "cantho", "backend": "google", "spreadsheet": "1abc", **extra}]}


def test_evidence_url_is_optional_and_kept_as_written():
    assert settings_from_mapping(_source()).sources[0].evidence_url is None
    source = settings_from_mapping(_source(evidence_url=f"  {TEMPLATE} ")).sources[0]
    assert source.evidence_url == TEMPLATE


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://x.org/files/", "holds no {path}"),
        ("https://x.org/{path}/{file}", "unknown placeholder(s) file"),
        ("https://x.org/{path", "braces do not pair"),
        ("javascript:alert('{path}')", "http:// or https://"),
        ("https://{path}.evil.example/", "before any placeholder"),
        ("", "holds no {path}"),
        (42, "not text"),
    ],
)
def test_a_bad_evidence_url_is_an_error_naming_the_key(value, message):
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(_source(evidence_url=value))
    assert "sources[cantho].evidence_url" in str(caught.value)
    assert message in str(caught.value)
    assert "fileName={path}" in str(caught.value)  # the fix, spelt out
