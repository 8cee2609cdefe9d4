"""The alerts' words in each language (the dashboard's: `[dashboard] language`)."""

from __future__ import annotations

from collections.abc import Mapping

from hqsync.config.vocabulary import Language

ALERT_LABELS: Mapping[Language, Mapping[str, str]] = {
    Language.VI: {
        "subject_hospital": "[hqsync] {names}: {count} cảnh báo",
        "subject_department": "[hqsync] Các đơn vị: {count} cảnh báo",
        "subject_problems": "[hqsync] Không gửi được {count} cảnh báo",
        "intro_hospital": "Cảnh báo mới từ hqsync về đơn vị của anh/chị:",
        "intro_department": "Cảnh báo mới từ hqsync:",
        "sources": "Nguồn dữ liệu",
        "band_drop": (
            "{standard}: đánh giá của đoàn ngày {on} xếp loại {band} ({score}), thấp hơn "
            "lần trước: {previous_band} ({previous_score})."
        ),
        "basic_failed": "{standard}: {kind} ngày {on} không đạt tiêu chuẩn cơ bản ({score}).",
        "due_soon": "{standard} năm {year}: {kind} chưa nộp{drafted}; hạn {due}, còn {days} ngày.",
        "due_today": "{standard} năm {year}: {kind} chưa nộp{drafted}; hạn là hôm nay ({due}).",
        "overdue": "{standard} năm {year}: {kind} quá hạn {days} ngày (hạn {due}){drafted}.",
        "source_failed": (
            "Nguồn {source} không đồng bộ được từ {since} ({failures} lần): {error}. Dữ liệu của "
            "nguồn này trên bảng điều khiển có thể đã cũ."
        ),
        "kind_self": "tự đánh giá",
        "kind_council": "đánh giá của đoàn",
        "drafted": " (mới có bản nháp, chưa tính)",
        "dashboard": "Bảng điều khiển của đơn vị: {link}",
        "overview": "Bảng điều khiển tổng hợp: {link}",
        "problems": "Không gửi được (sẽ thử lại ở lần chạy sau):",
        "problem": "{who}: {error} ({count} cảnh báo)",
        "channel_email": "thư tới",
        "channel_google_chat": "Google Chat",
        "more": "… và {count} cảnh báo khác: xem bảng điều khiển.",
        "footer": "Thư tự động của hqsync; mỗi cảnh báo chỉ được gửi một lần.",
        "no_score": "chưa có điểm",
    },
    Language.EN: {
        "subject_hospital": "[hqsync] {names}: {count} alert(s)",
        "subject_department": "[hqsync] Department: {count} alert(s)",
        "subject_problems": "[hqsync] {count} alert(s) could not be delivered",
        "intro_hospital": "New alerts from hqsync about your unit:",
        "intro_department": "New alerts from hqsync:",
        "sources": "Data sources",
        "band_drop": (
            "{standard}: the council's assessment of {on} is in band {band} ({score}), lower "
            "than last time: {previous_band} ({previous_score})."
        ),
        "basic_failed": "{standard}: the {kind} of {on} fails the basic standards ({score}).",
        "due_soon": (
            "{standard} {year}: {kind} not submitted{drafted}; due {due}, in {days} day(s)."
        ),
        "due_today": "{standard} {year}: {kind} not submitted{drafted}; due today ({due}).",
        "overdue": "{standard} {year}: {kind} overdue by {days} day(s) (due {due}){drafted}.",
        "source_failed": (
            "Source {source} has failed to sync since {since} ({failures} time(s)): {error}. "
            "Its data on the dashboards may be out of date."
        ),
        "kind_self": "self-assessment",
        "kind_council": "council assessment",
        "drafted": " (only a draft, which does not count)",
        "dashboard": "Your unit's dashboard: {link}",
        "overview": "The department's dashboard: {link}",
        "problems": "Could not be delivered (retried on the next run):",
        "problem": "{who}: {error} ({count} alert(s))",
        "channel_email": "mail to",
        "channel_google_chat": "Google Chat",
        "more": "… and {count} more alert(s): see the dashboard.",
        "footer": "Sent automatically by hqsync; each alert is sent once.",
        "no_score": "no score",
    },
}
"""Language → key → text (with `str.format` fields)."""
