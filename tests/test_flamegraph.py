"""Flame graphs as static SVG: valid XML, widths in proportion to samples, stacks merged, titles for tooltips."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from benchmarks.flamegraph import Stack, flamegraph_svg, write_flamegraph

SVG = "{http://www.w3.org/2000/svg}"


def _grey(path: tuple[str, ...]) -> str:
    return "#888888"


def _frames(svg: str) -> dict[str, list[dict[str, str]]]:
    """Tooltip text -> the rect attributes (plus its drawn text, if any) of every box with that tooltip."""
    found: dict[str, list[dict[str, str]]] = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        title, rect, text = group.find(f"{SVG}title"), group.find(f"{SVG}rect"), group.find(f"{SVG}text")
        assert title is not None and title.text and rect is not None
        drawn = {"text": text.text or ""} if text is not None else {}
        found.setdefault(title.text, []).append({**rect.attrib, **drawn})
    return found


def _one(frames: dict[str, list[dict[str, str]]], start: str) -> dict[str, str]:
    matches = [box for tip, boxes in frames.items() if tip.startswith(start) for box in boxes]
    assert len(matches) == 1, f"{start!r}: {matches}"
    return matches[0]


def _texts(svg: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(svg).iter(f"{SVG}text")]


def test_the_output_is_an_svg_document_with_a_white_background_and_the_title() -> None:
    svg = flamegraph_svg([(("main", "work"), 2)], "report-5 / taskgroup", _grey, width=800)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == "800" and root.get("viewBox") == f"0 0 800 {root.get('height')}"
    background = root.find(f"{SVG}rect")
    assert background is not None and background.get("fill") == "white"
    assert "report-5 / taskgroup" in _texts(svg)


def test_widths_follow_the_samples_and_the_root_spans_the_width() -> None:
    stacks: list[Stack] = [(("main", "busy"), 3), (("main", "idle"), 1)]
    frames = _frames(flamegraph_svg(stacks, "t", _grey, width=1000, min_fraction=0))
    root, main = _one(frames, "all —"), _one(frames, "main —")
    busy, idle = _one(frames, "busy —"), _one(frames, "idle —")
    assert (float(root["x"]), float(root["width"])) == (0, 1000)
    assert float(main["width"]) == pytest.approx(1000, abs=1)
    assert float(busy["width"]) == pytest.approx(750, abs=1) and float(idle["width"]) == pytest.approx(250, abs=1)
    # Side by side within the parent, the parent's row below them, the root's at the bottom.
    assert float(idle["x"]) == pytest.approx(float(busy["x"]) + float(busy["width"]), abs=1)
    assert float(busy["y"]) == float(idle["y"]) < float(main["y"]) < float(root["y"])


def test_children_are_ordered_by_their_label_not_by_samples() -> None:
    # label_of renames the frames so that label order is the reverse of frame-string order.
    stacks: list[Stack] = [(("main", "a.py:1"), 5), (("main", "b.py:1"), 1)]
    labels = {"main": "main", "a.py:1": "zeta", "b.py:1": "alpha"}
    frames = _frames(flamegraph_svg(stacks, "t", _grey, label_of=labels.__getitem__, width=600))
    alpha, zeta = _one(frames, "alpha —"), _one(frames, "zeta —")
    assert float(alpha["x"]) < float(zeta["x"])
    assert alpha["text"] == "alpha"


def test_the_same_frame_merges_under_the_same_parent_but_not_under_another() -> None:
    stacks: list[Stack] = [
        (("main", "work"), 2),
        (("main", "work"), 1),
        (("main", "idle"), 1),
        (("other", "work"), 1),
    ]
    frames = _frames(flamegraph_svg(stacks, "t", _grey))
    assert sorted(frames) == sorted(
        [
            "all — 5 samples (100.00%)",
            "main — 4 samples (80.00%)",
            "other — 1 sample (20.00%)",
            "work — 3 samples (60.00%)",
            "work — 1 sample (20.00%)",
            "idle — 1 sample (20.00%)",
        ]
    )
    assert all(len(boxes) == 1 for boxes in frames.values())


def test_frames_below_the_minimum_fraction_are_left_out_with_their_subtree() -> None:
    stacks: list[Stack] = [(("main", "hot"), 999), (("main", "cold", "colder"), 1)]  # cold has 0.1%
    at_threshold = _frames(flamegraph_svg(stacks, "t", _grey, min_fraction=0.001))
    assert _one(at_threshold, "cold —") and _one(at_threshold, "colder —")
    below = _frames(flamegraph_svg(stacks, "t", _grey, min_fraction=0.002))
    assert not any(tip.startswith(("cold", "colder")) for tip in below)
    assert float(_one(below, "main —")["width"]) == pytest.approx(1200, abs=1)  # the parent still covers them


def test_a_stack_without_samples_draws_nothing_even_with_no_minimum() -> None:
    stacks: list[Stack] = [(("main", "work"), 2), (("main", "never"), 0)]
    frames = _frames(flamegraph_svg(stacks, "t", _grey, min_fraction=0))
    assert not any(tip.startswith("never") for tip in frames)
    assert "main — 2 samples (100.00%)" in frames


def test_titles_carry_counts_and_percentages_and_escape_markup_characters() -> None:
    module, lam = "<module> (app.py:1)", "<lambda> (a&b.py:2)"
    stacks: list[Stack] = [((module, lam), 1), ((module, "run"), 3)]
    svg = flamegraph_svg(stacks, "Q&A <case>", _grey)
    assert "&lt;module&gt;" in svg and "a&amp;b.py" in svg and "Q&amp;A &lt;case&gt;" in svg
    frames = _frames(svg)  # parses, and the tooltip text comes back as it went in
    assert f"{module} — 4 samples (100.00%)" in frames
    assert f"{lam} — 1 sample (25.00%)" in frames
    assert "Q&A <case>" in _texts(svg)


def test_labels_that_do_not_fit_are_cut_and_tiny_boxes_have_none() -> None:
    stacks: list[Stack] = [(("a_rather_long_function_name",), 10), (("short",), 1), (("tiny",), 1)]
    frames = _frames(flamegraph_svg(stacks, "t", _grey, width=120))
    # 100 px: (100 - 6) / 6.5 -> 14 characters, the last two of them "..".
    assert _one(frames, "a_rather_long_function_name —")["text"] == "a_rather_lon.."
    assert "text" not in _one(frames, "tiny —")  # 10 px: a single character would fit
    assert _one(frames, "all —")["text"] == "all (12 samples)"  # 120 px: 17 characters fit, all 16 drawn


def test_color_of_is_given_the_path_from_the_root_and_its_colour_is_used() -> None:
    asked: list[tuple[str, ...]] = []

    def colour(path: tuple[str, ...]) -> str:
        asked.append(path)
        return "#c44e52" if path[-1] == "leaf" else "#4c72b0"

    frames = _frames(flamegraph_svg([(("main", "step", "leaf"), 2)], "t", colour))
    assert sorted(asked) == [("main",), ("main", "step"), ("main", "step", "leaf")]  # never the synthetic root
    assert _one(frames, "leaf —")["fill"] == "#c44e52"
    assert _one(frames, "step —")["fill"] == "#4c72b0"


def test_the_legend_shows_each_label_beside_its_colour() -> None:
    legend = [("workflow", "#4c72b0"), ("asyncio & threads", "#dd8452"), ("agno", "#55a868")]
    svg = flamegraph_svg([(("main",), 1)], "t", _grey, legend=legend)
    texts = _texts(svg)
    assert all(label in texts for label, _ in legend)
    fills = [rect.get("fill") for rect in ET.fromstring(svg).findall(f"{SVG}rect")]  # the key's squares, not boxes
    assert all(colour in fills for _, colour in legend)


def test_a_legend_wider_than_the_graph_wraps_and_the_graph_starts_below_it() -> None:
    legend = [(f"category number {index}", "#4c72b0") for index in range(8)]
    root = ET.fromstring(flamegraph_svg([(("main",), 1)], "t", _grey, legend=legend, width=400))
    squares = [rect for rect in root.findall(f"{SVG}rect") if rect.get("fill") == "#4c72b0"]
    rows = sorted({float(rect.get("y", "")) for rect in squares})
    assert len(squares) == 8 and len(rows) > 1
    assert all(float(rect.get("x", "")) + float(rect.get("width", "")) <= 400 for rect in squares)
    boxes = [float(rect.get("y", "")) for group in root.iter(f"{SVG}g") for rect in group.iter(f"{SVG}rect")]
    assert min(boxes) > rows[-1] + 10


@pytest.mark.parametrize("stacks", [[], [(("main",), 0)]], ids=["no stacks", "zero samples"])
def test_no_samples_still_gives_an_svg_that_says_so(stacks: list[Stack]) -> None:
    svg = flamegraph_svg(stacks, "t", _grey, legend=[("workflow", "#4c72b0")])
    assert ET.fromstring(svg).tag == f"{SVG}svg"
    assert "no samples" in _texts(svg)
    assert _frames(svg) == {}


def test_write_flamegraph_makes_the_folders_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    stacks: list[Stack] = [(("main", "work"), 2)]
    target = tmp_path / "report" / "flames" / "case.svg"
    write_flamegraph(target, stacks, "case", _grey, legend=[("workflow", "#4c72b0")])
    assert target.read_text(encoding="utf-8") == flamegraph_svg(stacks, "case", _grey, legend=[("workflow", "#4c72b0")])
    assert [entry.name for entry in target.parent.iterdir()] == ["case.svg"]
