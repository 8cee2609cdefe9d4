"""Alerts to the people who must act (see ARCHITECTURE.md, Alerts).

    events.py   Alert and the detectors: band_drop, basic_failed, due_soon, overdue,
                source_failed, each under a stable key (pure)
    digest.py   who is told what (one digest per recipient per run) and in which words (pure)
    labels.py   the messages' words in Vietnamese and English
    mail.py     e-mail through smtplib (STARTTLS / SSL, login)
    chat.py     the Google Chat space's incoming webhook (requests)

What was delivered to whom is kept by `hqsync.models.alerts`; `hqsync.jobs.alerts` runs it all.
"""
