"""The server-side charts: a suppressed figure is drawn as suppressed, never as a zero-length bar."""

from __future__ import annotations

from xml.etree import ElementTree

from harambee_gateway.console.charts import Bar, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_a_suppressed_bar_is_labelled_and_not_drawn_as_zero() -> None:
    svg = ElementTree.fromstring(str(bar_chart(
        [Bar(label="open", value=12, shown="12"), Bar(label="closed", value=None, shown="")],
        title="Cases", suppressed="suppressed")))
    assert svg.get("role") == "img" and svg.find(f"{SVG}title").text == "Cases"
    filled = [r for r in svg.iter(f"{SVG}rect") if r.get("fill") != "none"]
    outlined = [r for r in svg.iter(f"{SVG}rect") if r.get("fill") == "none"]
    assert len(filled) == 1 and len(outlined) == 1
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts == ["open", "12", "closed", "suppressed"]


def test_a_flagged_bar_stands_out() -> None:
    svg = ElementTree.fromstring(str(bar_chart(
        [Bar(label="a", value=1, shown="1"), Bar(label="b", value=2, shown="2", flagged=True)],
        title="t", suppressed="s")))
    assert len({r.get("fill") for r in svg.iter(f"{SVG}rect")}) == 2


def test_a_suppressed_point_breaks_the_line() -> None:
    svg = ElementTree.fromstring(str(line_chart(
        [("2026-01", 7), ("2026-02", None), ("2026-03", 9), ("2026-04", 11)], title="t", suppressed="s")))
    lines = list(svg.iter(f"{SVG}polyline"))
    assert [len(p.get("points").split()) for p in lines] == [1, 2]
    assert len(list(svg.iter(f"{SVG}circle"))) == 3


def test_labels_are_escaped() -> None:
    markup = str(bar_chart([Bar(label="<script>", value=1, shown="1")], title="a & b", suppressed="s"))
    assert "<script>" not in markup and "&lt;script&gt;" in markup and "a &amp; b" in markup
