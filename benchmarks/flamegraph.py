"""Flame graphs as static SVG from collapsed stacks (py-spy's raw format), one file per profiled case.

The report is read from file:// and must work without script, so unlike flamegraph.pl's SVGs there is no
JavaScript (no zoom, no search): each frame is a box whose <title> the browser shows on hover, with its label
drawn inside when it fits. The layout is flamegraph.pl's: the root at the bottom, children above it in label
order, widths proportional to samples.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.run_dir import atomic_write_text

Stack = tuple[tuple[str, ...], int]  # frames root -> leaf, samples

ROW = 16  # px per stack level
CHAR = 6.5  # px per character of 11px monospace: near enough to decide what fits
HEADER = 28  # the title's band; the legend goes under it
LEGEND_ROW = 18
ROOT_FILL = "#c8c8c8"  # the synthetic root is no frame of the program, so color_of is never asked about it


@dataclass
class _Node:
    samples: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


@dataclass(frozen=True)
class _Box:
    depth: int
    x: float
    width: float
    tip: str
    label: str
    fill: str


def _as_is(frame: str) -> str:
    return frame


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _tip(label: str, samples: int, total: int) -> str:
    return f"{label} — {samples:,} sample{'' if samples == 1 else 's'} ({100 * samples / total:.2f}%)"


def _fitted(label: str, width: float) -> str:
    """The label cut to the characters that fit the box, or nothing when fewer than 3 would."""
    fit = int((width - 6) / CHAR)  # 3 px of padding each side
    if len(label) <= fit:
        return label
    return label[: fit - 2] + ".." if fit >= 3 else ""


def _legend(legend: Sequence[tuple[str, str]], width: int) -> tuple[list[str], int]:
    """The key's squares and labels, wrapped to the width, and the y where the graph may start."""
    parts: list[str] = []
    x, y = 10.0, HEADER
    for label, colour in legend:
        span = 14 + len(label) * CHAR + 16
        if x > 10 and x + span > width:
            x, y = 10.0, y + LEGEND_ROW
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="10" height="10" fill="{_esc(colour)}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="{y + 9}">{_esc(label)}</text>')
        x += span
    return parts, y + LEGEND_ROW if legend else HEADER


def _boxes(
    root: _Node,
    color_of: Callable[[tuple[str, ...]], str],
    label_of: Callable[[str], str],
    *,
    min_fraction: float,
    width: int,
) -> list[_Box]:
    total = root.samples
    scale = width / total
    boxes = [_Box(0, 0.0, float(width), _tip("all", total, total), f"all ({total:,} samples)", ROOT_FILL)]
    # Iterative: Python stacks can be deeper than the recursion limit is comfortable with.
    pending: list[tuple[_Node, tuple[str, ...], int, float]] = [(root, (), 0, 0.0)]
    while pending:
        node, path, depth, x = pending.pop()
        for frame, child in sorted(node.children.items(), key=lambda item: (label_of(item[0]), item[0])):
            span = child.samples * scale
            # A frame left out still takes its place, so its siblings stay where the samples put them.
            if child.samples >= min_fraction * total:
                label, chain = label_of(frame), (*path, frame)
                boxes.append(_Box(depth + 1, x, span, _tip(label, child.samples, total), label, color_of(chain)))
                pending.append((child, chain, depth + 1, x))
            x += span
    return boxes


def flamegraph_svg(
    stacks: Sequence[Stack],
    title: str,
    color_of: Callable[[tuple[str, ...]], str],
    legend: Sequence[tuple[str, str]] = (),
    label_of: Callable[[str], str] = _as_is,
    min_fraction: float = 0.001,
    width: int = 1200,
) -> str:
    """The SVG text: stacks merged into a trie (the same frame under the same parent is one box), a box per frame
    with at least min_fraction of the samples, coloured by color_of(frames from the root to it)."""
    root = _Node()
    for frames, samples in stacks:
        if samples <= 0:
            continue
        node = root
        node.samples += samples
        for frame in frames:
            node = node.children.setdefault(frame, _Node())
            node.samples += samples
    parts, top = _legend(legend, width)
    boxes = _boxes(root, color_of, label_of, min_fraction=min_fraction, width=width) if root.samples else []
    deepest = max((box.depth for box in boxes), default=1)
    height = top + (deepest + 1) * ROW + 10
    for box in boxes:
        y = top + (deepest - box.depth) * ROW
        text = _fitted(box.label, box.width)
        parts.append(
            f"<g><title>{_esc(box.tip)}</title>"
            f'<rect x="{box.x:.2f}" y="{y}" width="{box.width:.2f}" height="{ROW - 1}" rx="2" fill="{_esc(box.fill)}"/>'
            + (f'<text x="{box.x + 3:.2f}" y="{y + 11}">{_esc(text)}</text>' if text else "")
            + "</g>"
        )
    if not boxes:
        parts.append(f'<text x="{width / 2}" y="{top + ROW}" text-anchor="middle">no samples</text>')
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">',
            '<rect width="100%" height="100%" fill="white"/>',
            f'<text x="{width / 2}" y="18" font-size="14" text-anchor="middle">{_esc(title)}</text>',
            *parts,
            "</svg>\n",
        ]
    )


def write_flamegraph(
    path: Path,
    stacks: Sequence[Stack],
    title: str,
    color_of: Callable[[tuple[str, ...]], str],
    legend: Sequence[tuple[str, str]] = (),
    label_of: Callable[[str], str] = _as_is,
    min_fraction: float = 0.001,
    width: int = 1200,
) -> None:
    """flamegraph_svg to a file, written atomically; the folders are made as needed."""
    atomic_write_text(path, flamegraph_svg(stacks, title, color_of, legend, label_of, min_fraction, width))
