"""Which link an evidence cell gets: http(s) only, the path URL-encoded, inspector text inert."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hqsync.config.utils import format_link, http_link, link_template_problem
from hqsync.sync.dashboard import Link
from hqsync.sync.dashboard.evidence import evidence_link, gap_links, is_url

TEMPLATE = (
    "https://www.appsheet.com/template/gettablefileurl?appName=Insp-1"
    "&tableName={tab}&fileName={path}"
)
DRIVE = "https://drive.google.com/file/d/1abc/view?usp=drivesdk"
HOSTILE = (
    '=HYPERLINK("http://evil.example/","x")',
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    'Findings_Images/it\'s "ảnh" số 1.jpg',
    "  Findings_Images/a&b=c?d#e.jpg  ",
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
)


@pytest.mark.parametrize(
    ("evidence", "template", "cached", "expected"),
    [
        # a relative path: the template, with the path and tab URL-encoded whole
        (
            "Findings_Images/a1.Ảnh.jpg",
            TEMPLATE,
            None,
            "https://www.appsheet.com/template/gettablefileurl?appName=Insp-1"
            "&tableName=Chi%20ti%E1%BA%BFt&fileName=Findings_Images%2Fa1.%E1%BA%A2nh.jpg",
        ),
        # … else the Drive link cached for it, else nothing
        ("Findings_Images/a1.jpg", None, DRIVE, DRIVE),
        ("Findings_Images/a1.jpg", None, None, None),
        # a cell that holds an http(s) URL is linked as it is (a space is encoded)
        (
            "https://photos.example.org/a 1.jpg",
            TEMPLATE,
            DRIVE,
            "https://photos.example.org/a%201.jpg",
        ),
        ("HTTP://Photos.example.org/a.jpg", None, None, "http://Photos.example.org/a.jpg"),
        # any other scheme is never linked, template or not
        ("javascript:alert(1)", TEMPLATE, DRIVE, None),
        ("data:image/png;base64,AAAA", TEMPLATE, None, None),
        ("ftp://files.example.org/a.jpg", None, None, None),
        ("https:///no-host.jpg", None, None, None),
        # a formula is a path like any other: encoded in the template, unknown to Drive
        (
            '=HYPERLINK("http://evil.example/","x")',
            TEMPLATE,
            None,
            "https://www.appsheet.com/template/gettablefileurl?appName=Insp-1&tableName="
            "Chi%20ti%E1%BA%BFt&fileName=%3DHYPERLINK%28%22http%3A%2F%2Fevil.example%2F%22%2C%22x%22%29",
        ),
        ('=HYPERLINK("http://evil.example/","x")', None, None, None),
        # a cached link that is not http(s) (never written by hqsync) is not trusted either
        ("Findings_Images/a1.jpg", None, "javascript:alert(1)", None),
        ("   ", TEMPLATE, DRIVE, None),
    ],
)
def test_evidence_link(evidence, template, cached, expected):
    assert evidence_link(evidence, template=template, tab="Chi tiết", cached=cached) == expected


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("C:\\photos\\a.jpg", False),
        ("Findings_Images/a:b.jpg", False),
        ("https://x.org/a", True),
        ("javascript:alert(1)", True),
        ("mailto:a@b.c", True),
    ],
)
def test_what_counts_as_a_url(text, url):
    assert is_url(text) is url


@given(st.text(max_size=80), st.text(max_size=20))
def test_a_templated_link_is_one_inert_http_url_that_decodes_back_to_the_cell(text, tab):
    link = evidence_link(text, template=TEMPLATE, tab=tab, cached=None)
    if link is None:
        assert not text.strip() or (is_url(text) and http_link(text) is None)
        return
    assert link.startswith(("https://", "http://"))
    assert not any(c.isspace() or c in "\"'<>\\`" for c in link)
    if not is_url(text):
        prefix, _, encoded = link.partition("&fileName=")
        assert unquote(encoded) == text.strip()
        assert "/" not in encoded and "=" not in encoded and "&" not in encoded
        assert unquote(prefix.partition("&tableName=")[2]) == tab


@given(st.sampled_from(HOSTILE) | st.text(max_size=60))
def test_no_cell_text_ever_yields_a_non_http_link(text):
    for template in (TEMPLATE, None):
        link = evidence_link(text, template=template, tab="Findings", cached=DRIVE)
        assert link is None or link.split(":", 1)[0] in ("http", "https")
        if link is not None:
            assert http_link(link) == link


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (TEMPLATE, None),
        ("https://x.org/files/{path}", None),
        ("https://x.org/{tab}/{path}", None),
        ("https://x.org/files/", "holds no {path}"),
        ("https://x.org/{path}/{name}", "unknown placeholder"),
        ("https://x.org/{path", "braces"),
        ("javascript:alert('{path}')", "http:// or https://"),
        ("ftp://x.org/{path}", "http:// or https://"),
        ("https://{path}/x", "before any placeholder"),
        ("https://x.org{path}", "before any placeholder"),
    ],
)
def test_link_templates_are_checked(template, problem):
    found = link_template_problem(template)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_a_template_encodes_everything_an_inspector_types():
    assert format_link("https://x.org/f?p={path}", " a/b c'\"=<>#?&é ", "t") == (
        "https://x.org/f?p=a%2Fb%20c%27%22%3D%3C%3E%23%3F%26%C3%A9"
    )


def test_a_gap_links_the_evidence_of_its_failing_sub_items_in_order():
    index = {
        ("k1", "A1.1-2.1"): ("https://a.example/1",),
        ("k1", "A1.1-3.1"): ("https://a.example/2", "https://a.example/3"),
        ("k2", "A1.1-2.1"): ("https://a.example/other",),
    }
    assert gap_links(index, "k1", ["A1.1-3.1", "A1.1-2.2", "A1.1-2.1"]) == (
        Link("A1.1-3.1", "https://a.example/2"),
        Link("A1.1-3.1", "https://a.example/3"),
        Link("A1.1-2.1", "https://a.example/1"),
    )
    assert gap_links(index, "k3", ["A1.1-2.1"]) == ()


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "https://x.org/a b", "data:,x", "/relative", ""]
)
def test_a_link_cell_holds_only_a_plain_http_url(url):
    with pytest.raises(ValueError, match="plain http"):
        Link("x", url)
