import pytest

from ser_tf.errors import ParameterError
from ser_tf.report.document import (
    INDEX, Html, Report, csv_bytes, esc, fmt_seconds, fmt_time, page, parse_time, table,
)
from tests.report.support import read_csv


def test_write_puts_every_file_side_by_side_and_returns_the_index(tmp_path):
    report = Report(title="t", files={INDEX: b"<html></html>", "a.csv": b"x\n1\n", "b.png": b"\x89PNG"})
    index = report.write(tmp_path / "out" / "deep")
    assert index == tmp_path / "out" / "deep" / INDEX
    assert sorted(p.name for p in index.parent.iterdir()) == ["a.csv", "b.png", INDEX]
    assert (index.parent / "a.csv").read_bytes() == b"x\n1\n"


def test_write_overwrites_a_previous_report(tmp_path):
    Report(title="t", files={INDEX: b"old"}).write(tmp_path)
    Report(title="t", files={INDEX: b"new"}).write(tmp_path)
    assert (tmp_path / INDEX).read_bytes() == b"new"


@pytest.mark.parametrize("name", ["../escape.html", "sub/x.png", "..\\x", "..", ""])
def test_write_refuses_names_with_folders(tmp_path, name):
    with pytest.raises(ParameterError, match="not a plain file name") as err:
        Report(title="t", files={INDEX: b"", name: b"x"}).write(tmp_path / "out")
    assert repr(name) in str(err.value)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "escape.html").exists()


def test_write_needs_an_index(tmp_path):
    with pytest.raises(ParameterError, match="index.html"):
        Report(title="t", files={"a.csv": b""}).write(tmp_path)


def test_esc_escapes_text_but_not_markup_built_here():
    assert esc("<script>x</script> & 'q'") == "&lt;script&gt;x&lt;/script&gt; &amp; &#x27;q&#x27;"
    assert esc(Html("<b>ok</b>")) == "<b>ok</b>"
    assert esc(None) == "–"


def test_table_escapes_cells_and_says_when_empty():
    html = table(["name"], [["<i>x</i>"]])
    assert "&lt;i&gt;x&lt;/i&gt;" in html and "<i>" not in html
    assert "nothing here" in table(["name"], [], empty="nothing here")


def test_page_is_complete_utf8_html_without_scripts_or_remote_links():
    html = page(title="Ärger <b>", body=["<p>hi</p>"]).decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<title>Ärger &lt;b&gt;</title>" in html
    assert "<script" not in html and "http" not in html


def test_csv_keeps_floats_exact_and_none_empty():
    rows = read_csv(csv_bytes(["a", "b", "c"], [[0.1 + 0.2, None, True]]))
    assert rows == [{"a": repr(0.1 + 0.2), "b": "", "c": "true"}]
    assert float(rows[0]["a"]) == 0.1 + 0.2


def test_formats_for_people():
    assert fmt_seconds(4.25) == "4.2 s"
    assert fmt_seconds(185) == "3 min 05 s"
    assert fmt_seconds(2 * 3600 + 7 * 60) == "2 h 07 min"
    assert fmt_time("2026-11-30T14:55:03Z") == "2026-11-30 14:55:03 UTC"
    assert parse_time("2026-11-30T14:55:03Z").utcoffset().total_seconds() == 0
