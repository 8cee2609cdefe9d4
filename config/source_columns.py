"""The per-source column map and locale of the config (`[[sources]] columns`, `locale`): their
shape is checked here, when the config loads; the field names against the sheet contract when
the source is read (`hqsync.sync.ingest.mapping`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from hqsync.config.errors import ConfigError
from hqsync.config.vocabulary import TAB_KINDS, fold

_LOCALE_NAME = re.compile(r"([A-Za-z]{2,3})(?:[_-]([A-Za-z]{2}|\d{3}))?")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")


def parse_source_locale(value: object, key: str) -> str | None:
    """A source's `locale` (`vi_VN`, `en-us`, `fr`) spelt canonically (`en_US`); None if unset.

    Raises ConfigError naming `key` when the value is not an `ll` or `ll_CC` locale name.
    """
    if value is None:
        return None
    match = _LOCALE_NAME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(
            f"{key} = {value!r}: not a locale name; write e.g. 'vi_VN', 'en_US' or 'en_GB' "
            "(the data locale of the AppSheet table), or leave it out"
        )
    language, country = match.groups()
    return language.lower() if country is None else f"{language.lower()}_{country.upper()}"


def parse_source_columns(value: object, key: str) -> Mapping[str, Mapping[str, str]]:
    """A source's `[sources.columns.<tab>]` tables: tab kind → field → header, immutable.

    Checks the shape only: known tab kinds, field names written like `finding_id`, non-empty
    header texts, and no header (compared with `fold`, as headers are matched) given to two
    fields of one tab. Raises ConfigError naming the key, e.g. `sources[cantho].columns.findings.
    result`. Whether each field exists in the sheet contract is checked by the ingest layer.
    """
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{key} must be tables of headers, e.g. [sources.columns.findings] "
            'with finding_id = "Row ID"'
        )
    tabs: dict[str, Mapping[str, str]] = {}
    for tab, fields in value.items():
        where = f"{key}.{tab}"
        if tab not in TAB_KINDS:
            raise ConfigError(f"unknown config key {where}; known: {', '.join(TAB_KINDS)}")
        if not isinstance(fields, Mapping):
            raise ConfigError(f'{where} must be a table of field = "header in your sheet"')
        headers: dict[str, str] = {}
        mapped: dict[str, str] = {}
        for name, header in fields.items():
            field_key = f"{where}.{name}"
            if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
                raise ConfigError(f"{field_key}: not a field name (e.g. finding_id, result)")
            if not isinstance(header, str) or not fold(header):
                raise ConfigError(
                    f"{field_key} = {header!r}: must be the text of a header in the tab, "
                    "with at least one letter or digit"
                )
            other = headers.setdefault(fold(header), name)
            if other != name:
                raise ConfigError(
                    f"{field_key} = {header!r}: that header is already given to {where}.{other}; "
                    "one column holds one field"
                )
            mapped[name] = header.strip()
        tabs[tab] = MappingProxyType(mapped)
    return MappingProxyType(tabs)
