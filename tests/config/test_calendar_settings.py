"""`[[cycles]]` and `[alerts]`: the council's calendar and its alerts, checked when read."""

from __future__ import annotations

from datetime import date, time

import pytest

from hqsync.config.calendar_settings import (
    CHAT_WEBHOOK_ENV,
    EMAIL_PASSWORD_ENV,
    split_addresses,
)
from hqsync.config.errors import ConfigError
from hqsync.config.settings import settings_from_mapping
from hqsync.config.vocabulary import AlertEvent, Covers
from hqsync.scoring.cycles import MonthDay

WEBHOOK = "https://chat.googleapis.com/v1/spaces/AAA/messages?key=SECRETKEY&token=SECRETTOKEN"
ISSUE_CONFIG: dict[str, object] = {
    "cycles": [
        {"standard": "QD6858", "self_due": "11-30", "council_due": "12-31"},
        {"standard": "TT35", "self_due": "03-31", "covers": "previous_year"},
    ],
    "alerts": {
        "events": ["band_drop", "basic_failed", "due_soon", "overdue", "source_failed"],
        "due_soon_days": 14,
        "quiet_hours": "21:00-07:00",
        "email": {
            "host": "smtp.soyte.example",
            "port": 587,
            "starttls": True,
            "username": "hqsync@soyte.example",
            "sender": "hqsync@soyte.example",
            "ops": ["ops@soyte.example"],
        },
        "google_chat": {"webhook": WEBHOOK},
        "hospitals": {"BV01": ["giamdoc@bv01.example"]},
    },
}


def test_the_issues_config_reads_as_written():
    settings = settings_from_mapping(ISSUE_CONFIG, environ={EMAIL_PASSWORD_ENV: "pw"})
    qd, tt = settings.cycles
    assert (qd.standard, qd.self_due, qd.council_due, qd.covers) == (
        "QD6858",
        MonthDay(11, 30),
        MonthDay(12, 31),
        Covers.CURRENT_YEAR,
    )
    assert (tt.standard, tt.self_due, tt.council_due, tt.covers) == (
        "TT35",
        MonthDay(3, 31),
        None,
        Covers.PREVIOUS_YEAR,
    )
    alerts = settings.alerts
    assert alerts.events == tuple(AlertEvent)
    assert alerts.quiet_hours == (time(21, 0), time(7, 0))
    assert alerts.email is not None and alerts.email.password == "pw"
    assert alerts.email.ops == ("ops@soyte.example",)
    assert alerts.hospitals["BV01"] == ("giamdoc@bv01.example",)
    assert alerts.enabled


def test_no_secret_reaches_a_repr():
    settings = settings_from_mapping(ISSUE_CONFIG, environ={EMAIL_PASSWORD_ENV: "S3cretPW"})
    shown = repr(settings)
    assert "S3cretPW" not in shown and "SECRETKEY" not in shown and "SECRETTOKEN" not in shown
    assert settings.alerts.google_chat is not None
    assert "SECRET" not in settings.alerts.google_chat.shown


def test_defaults_without_any_section():
    settings = settings_from_mapping({})
    assert settings.cycles == ()
    assert settings.alerts.events == tuple(AlertEvent)
    assert settings.alerts.due_soon_days == 14
    assert not settings.alerts.enabled


def test_the_webhook_may_come_from_the_environment():
    settings = settings_from_mapping({}, environ={CHAT_WEBHOOK_ENV: WEBHOOK})
    assert settings.alerts.google_chat is not None
    assert settings.alerts.google_chat.webhook == WEBHOOK


@pytest.mark.parametrize(
    ("quiet", "moment", "expected"),
    [
        ("21:00-07:00", time(22, 0), True),
        ("21:00-07:00", time(6, 59), True),
        ("21:00-07:00", time(7, 0), False),
        ("21:00-07:00", time(12, 0), False),
        ("12:00-13:30", time(13, 0), True),
        ("12:00-13:30", time(13, 30), False),
    ],
)
def test_quiet_hours_may_wrap_midnight(quiet, moment, expected):
    alerts = settings_from_mapping({"alerts": {"quiet_hours": quiet}}).alerts
    assert alerts.is_quiet(moment) is expected


def test_29_february_falls_on_the_28th_in_common_years():
    assert MonthDay(2, 29).in_year(2027) == date(2027, 2, 28)
    assert MonthDay(2, 29).in_year(2028) == date(2028, 2, 29)


def test_addresses_split_on_commas_and_semicolons():
    assert split_addresses(" a@x.vn; b@y.vn ,, c@z.vn ") == ("a@x.vn", "b@y.vn", "c@z.vn")


@pytest.mark.parametrize(
    ("config", "names"),
    [
        ({"cycles": {"standard": "QD6858"}}, "[[cycles]] must be an array"),
        ({"cycles": [{"self_due": "11-30"}]}, "cycles[1].standard"),
        ({"cycles": [{"standard": "QD6858"}]}, "cycles[1].self_due"),
        ({"cycles": [{"standard": "QD6858", "self_due": "30-11"}]}, "cycles[1].self_due"),
        ({"cycles": [{"standard": "QD6858", "self_due": "02-30"}]}, "cycles[1].self_due"),
        ({"cycles": [{"standard": "X", "self_due": "11-30", "council_due": 1231}]}, "council_due"),
        ({"cycles": [{"standard": "X", "self_due": "11-30", "covers": "last"}]}, "covers"),
        ({"cycles": [{"standard": "X", "self_due": "11-30", "due": "1"}]}, "cycles[1].due"),
        (
            {
                "cycles": [
                    {"standard": "X", "self_due": "11-30"},
                    {"standard": "x", "self_due": "1-1"},
                ]
            },
            "twice",
        ),
        ({"alerts": {"events": ["band_drop", "bogus"]}}, "bogus"),
        ({"alerts": {"due_soon_days": -1}}, "alerts.due_soon_days"),
        ({"alerts": {"quiet_hours": "9pm-7am"}}, "alerts.quiet_hours"),
        ({"alerts": {"quiet_hours": "07:00-07:00"}}, "alerts.quiet_hours"),
        ({"alerts": {"email": {"sender": "a@b.vn"}}}, "alerts.email.host"),
        ({"alerts": {"email": {"host": "h", "sender": "nobody"}}}, "alerts.email.sender"),
        (
            {"alerts": {"email": {"host": "h", "sender": "a@b.vn", "username": "u"}}},
            EMAIL_PASSWORD_ENV,
        ),
        (
            {"alerts": {"email": {"host": "h", "sender": "a@b.vn", "ops": ["x"]}}},
            "alerts.email.ops",
        ),
        ({"alerts": {"email": {"host": "h", "sender": "a@b.vn", "pasword": "x"}}}, "pasword"),
        ({"alerts": {"google_chat": {"webhook": "ftp://x"}}}, "alerts.google_chat.webhook"),
        ({"alerts": {"hospitals": {"BV01": ["not-an-address"]}}}, "alerts.hospitals.BV01"),
        ({"alerts": {"hospital": {}}}, "alerts.hospital"),
    ],
)
def test_a_mistake_is_an_error_naming_the_key(config, names):
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(config)
    assert names in str(caught.value)
