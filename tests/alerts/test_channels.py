"""The channels on their own: mail over STARTTLS and SSL with a login (a certificate the
client must trust), the webhook's URL rules, who gets which digest, and a long Chat digest."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from hqsync.config.calendar_settings import EmailSettings, parse_alerts, webhook_problem
from hqsync.config.errors import ConfigError
from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.vocabulary import CHAT_SPACE, AlertEvent, AssessmentKind, Channel, Language
from hqsync.jobs.alerts import hospital_views, leader_addresses
from hqsync.models.alerts import HospitalContact
from hqsync.sync.alerts.digest import (
    CHAT_LIMIT,
    Audience,
    HospitalView,
    Message,
    RenderContext,
    plan_digests,
    render,
)
from hqsync.sync.alerts.events import Alert
from hqsync.sync.alerts.mail import Mailer
from tests.alerts.support import PASSWORD, alert_settings, self_signed, start_smtp

MESSAGE = Message("[hqsync] Bệnh viện Alpha: 1 cảnh báo", "Xin chào\n")


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "ssl"])
def test_mail_over_tls_with_a_login(tmp_path, implicit):
    server_tls, client_tls = self_signed(tmp_path)
    if implicit:  # SMTPS: TLS from the first byte (port 465 style)
        from aiosmtpd.controller import Controller

        from tests.alerts.support import Mailbox, _Handler, free_port

        box = Mailbox()
        port = free_port()
        controller = Controller(
            _Handler(box), hostname="127.0.0.1", port=port, ssl_context=server_tls
        )
        controller.start()
    else:
        smtp = start_smtp(tls=server_tls, login=True)
        box, port, controller = smtp.box, smtp.port, smtp.controller
    try:
        settings = EmailSettings(
            host="127.0.0.1",
            sender="hqsync@soyte.example",
            port=port,
            starttls=not implicit,
            ssl=implicit,
            username=None if implicit else "hqsync@soyte.example",
            password=None if implicit else PASSWORD,
            timeout_s=10,
        )
        with Mailer(settings, client_tls) as mailer:
            assert mailer.send("giamdoc@bv01.example", MESSAGE) is None
        (mail,) = box.messages
        assert mail["Subject"] == MESSAGE.subject and mail["Auto-Submitted"] == "auto-generated"
        assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == MESSAGE.text
        if not implicit:
            assert box.logins == [(b"hqsync@soyte.example", PASSWORD.encode())]
        # the system's trust store does not know the test certificate: refused, not sent
        with Mailer(settings) as untrusting:
            error = untrusting.send("giamdoc@bv01.example", MESSAGE)
            assert error is not None and "TLS certificate is not trusted" in error
            assert untrusting.send("pho@bv01.example", MESSAGE) == error  # not retried per mail
        assert len(box.messages) == 1
    finally:
        controller.stop()


def test_a_wrong_password_is_one_clear_error_without_the_password(tmp_path):
    smtp = start_smtp(login=True)
    try:
        settings = EmailSettings(
            host="127.0.0.1",
            sender="hqsync@soyte.example",
            port=smtp.port,
            starttls=False,
            username="hqsync@soyte.example",
            password="wrong-Secret",
            timeout_s=10,
        )
        with Mailer(settings) as mailer:
            error = mailer.send("giamdoc@bv01.example", MESSAGE)
        assert error is not None
        assert "refused the login of hqsync@soyte.example" in error
        assert "HQSYNC_ALERTS_EMAIL_PASSWORD" in error and "wrong-Secret" not in error
        assert smtp.box.messages == []
    finally:
        smtp.controller.stop()


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t", True),
        ("http://127.0.0.1:8080/v1/spaces/A/messages?key=k&token=t", True),
        ("http://localhost/hook", True),
        ("http://[::1]:9000/hook", True),
        ("http://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t", False),
        ("http://10.0.0.5/hook", False),
        ("ftp://127.0.0.1/hook", False),
    ],
)
def test_the_webhook_is_https_or_plain_http_to_this_machine_only(url, ok):
    assert (webhook_problem(url) is None) is ok
    section = {"google_chat": {"webhook": url}}
    if ok:
        assert parse_alerts(section, {}).google_chat is not None
    else:
        with pytest.raises(ConfigError, match=r"alerts\.google_chat\.webhook.*https://") as info:
            parse_alerts(section, {})
        assert "token=t" not in str(info.value)


def _alert(key: str, hospital: str | None, event: AlertEvent = AlertEvent.OVERDUE) -> Alert:
    return Alert(
        key=key,
        event=event,
        hospital_id=hospital,
        standard="QD6858",
        kind=AssessmentKind.SELF,
        due=date(2026, 11, 30),
        days_left=-3,
        year=2026,
        source="demo" if hospital is None else None,
        error="boom" if hospital is None else None,
    )


def test_one_digest_per_recipient_and_only_its_hospitals():
    alerts = [
        _alert("a", "BV01"),
        _alert("b", "BV02"),
        _alert("c", "BV03"),
        _alert("s", None, AlertEvent.SOURCE_FAILED),
    ]
    audience = Audience(
        leaders={
            "BV01": ("one@x.example", "both@x.example"),
            "BV02": ("both@x.example",),  # leads two hospitals: one digest of both
            "BV03": ("ops@x.example",),  # also ops: the department-wide digest only
        },
        ops=("ops@x.example",),
        email=True,
        chat=True,
    )
    digests = plan_digests(alerts, audience, delivered={("b", Channel.EMAIL, "both@x.example")})
    shown = [(d.channel, d.recipient, d.department, [a.key for a in d.alerts]) for d in digests]
    assert shown == [
        (Channel.EMAIL, "both@x.example", False, ["a"]),
        (Channel.EMAIL, "one@x.example", False, ["a"]),
        (Channel.GOOGLE_CHAT, CHAT_SPACE, True, ["a", "b", "c", "s"]),
        (Channel.EMAIL, "ops@x.example", True, ["a", "b", "c", "s"]),
    ]
    assert plan_digests(alerts, Audience(leaders={}, email=False, chat=False), set()) == []


def test_a_long_chat_digest_is_cut_with_a_count_of_the_rest():
    rule_sets = load_rule_sets(())
    hospitals = {
        f"BV{i:03d}": HospitalView(f"BV{i:03d}", f"Bệnh viện số {i:03d}") for i in range(300)
    }
    alerts = tuple(_alert(f"k{i}", f"BV{i:03d}") for i in range(300))
    context = RenderContext(Language.VI, hospitals, rule_sets, ZoneInfo("Asia/Ho_Chi_Minh"))
    audience = Audience(leaders={}, ops=("ops@x.example",), email=True, chat=True)
    chat, mail = plan_digests(alerts, audience, set())
    text = render(chat, context).text
    assert len(text) <= CHAT_LIMIT
    shown = text.count("\n- ")
    assert 0 < shown < 300
    assert f"… và {300 - shown} cảnh báo khác: xem bảng điều khiển." in text
    assert render(mail, context).text.count("\n- ") == 300  # mail holds them all


def test_the_config_wins_over_the_email_column(tmp_path):
    settings = alert_settings(tmp_path, "sqlite:///x.db")  # BV02 = lead@bv02 in the config
    contacts = [
        HospitalContact("BV01", "A", "a@bv01.example;  b@bv01.example,a@bv01.example", None, True),
        HospitalContact("BV02", "B", "column@bv02.example", None, True),
        HospitalContact("BV03", "C", "nobody, c@bv03.example", None, True),
    ]
    leaders, skipped = leader_addresses(settings, contacts)
    assert leaders == {
        "BV01": ("a@bv01.example", "b@bv01.example"),
        "BV02": ("lead@bv02.example",),
        "BV03": ("c@bv03.example",),
    }
    assert skipped == (("BV03", "nobody"),)


def test_a_name_cannot_mention_everyone_in_the_chat_space():
    rule_sets = load_rule_sets(())
    name = "<users/all> Bệnh viện <https://evil.example|bấm vào đây>"
    context = RenderContext(
        Language.VI, {"BV01": HospitalView("BV01", name)}, rule_sets, ZoneInfo("Asia/Ho_Chi_Minh")
    )
    audience = Audience(leaders={}, ops=("ops@x.example",), email=True, chat=True)
    chat, mail = plan_digests([_alert("a", "BV01")], audience, set())
    text = render(chat, context).text
    assert "<" not in text and ">" not in text and "‹users/all›" in text
    assert name in render(mail, context).text  # plain text mail shows it as it is


def test_a_digest_links_each_hospital_to_the_dashboard_publish_writes_for_it(tmp_path):
    """Config first, then the Hospitals tab's column; a cell naming another hospital's (or the
    overview's) dashboard gives no link, as publish skips it, never someone else's dashboard."""
    settings = alert_settings(tmp_path, "sqlite:///x.db")  # BV01 = BV01-sheet-id in the config
    contacts = [
        HospitalContact("BV01", "A", None, "column-sheet-for-bv01", True),
        HospitalContact("BV02", "B", None, "BV02-sheet-id", True),
        HospitalContact(
            "BV03", "C", None, "https://docs.google.com/spreadsheets/d/BV01-sheet-id/edit", True
        ),
        HospitalContact("BV05", "E", None, "OVERVIEW-sheet-id", True),
        HospitalContact("BV06", "F", None, None, True),
    ]
    links = {h: view.link for h, view in hospital_views(settings, contacts).items()}
    sheet = "https://docs.google.com/spreadsheets/d/{}".format
    assert links == {
        "BV01": sheet("BV01-sheet-id"),
        "BV02": sheet("BV02-sheet-id"),
        "BV03": None,
        "BV05": None,
        "BV06": None,
    }
