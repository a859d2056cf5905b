"""Hand-written SVG charts: panels of horizontal bars, one bar per row,
optionally stacked (user + kernel CPU). No plotting library needed."""
import math
from html import escape

FONT = "font-family='DejaVu Sans, Arial, sans-serif'"
COLORS = ["#3b6fb6", "#e08a2c", "#4f9d4f", "#b84a4a", "#7a5aa6"]


def _nice_max(value):
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _fmt(v):
    if v == 0:
        return "0"
    if v < 1:
        return f"{v:.3g}"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def bar_panel(title, labels, series, unit, x, y, width, bar_h=14, label_w=170, highlight=()):
    """series: list of (name, [value or None per label]) stacked left to right.
    Returns (svg fragments, height used)."""
    parts = [f"<text x='{x}' y='{y + 14}' {FONT} font-size='14' font-weight='bold'>{escape(title)}</text>"]
    top = y + 24
    if len(series) > 1:  # legend
        lx = x + label_w
        for i, (name, _) in enumerate(series):
            parts.append(f"<rect x='{lx}' y='{top}' width='10' height='10' fill='{COLORS[i % len(COLORS)]}'/>")
            parts.append(f"<text x='{lx + 14}' y='{top + 9}' {FONT} font-size='11'>{escape(name)}</text>")
            lx += 24 + 7 * len(name)
        top += 18
    totals = [sum(v[i] or 0 for _, v in series) for i in range(len(labels))]
    scale_max = _nice_max(max(totals, default=0))
    plot_w = width - label_w - 70
    for tick in range(5):  # grid
        tv = scale_max * tick / 4
        tx = x + label_w + plot_w * tick / 4
        parts.append(f"<line x1='{tx:.1f}' y1='{top}' x2='{tx:.1f}' y2='{top + len(labels) * (bar_h + 6)}' "
                     "stroke='#ddd'/>")
        parts.append(f"<text x='{tx:.1f}' y='{top + len(labels) * (bar_h + 6) + 12}' {FONT} font-size='10' "
                     f"text-anchor='middle' fill='#555'>{_fmt(tv)}</text>")
    for i, label in enumerate(labels):
        by = top + i * (bar_h + 6)
        weight = "bold" if label in highlight else "normal"
        parts.append(f"<text x='{x + label_w - 6}' y='{by + bar_h - 3}' {FONT} font-size='12' text-anchor='end' "
                     f"font-weight='{weight}'>{escape(label)}</text>")
        bx = x + label_w
        if all(v[i] is None for _, v in series):
            parts.append(f"<text x='{bx + 4}' y='{by + bar_h - 3}' {FONT} font-size='11' fill='#888'>n/a</text>")
            continue
        for s, (_, values) in enumerate(series):
            w = plot_w * (values[i] or 0) / scale_max
            parts.append(f"<rect x='{bx:.1f}' y='{by}' width='{w:.1f}' height='{bar_h}' "
                         f"fill='{COLORS[s % len(COLORS)]}'/>")
            bx += w
        parts.append(f"<text x='{bx + 4:.1f}' y='{by + bar_h - 3}' {FONT} font-size='11'>{_fmt(totals[i])}</text>")
    axis_y = top + len(labels) * (bar_h + 6) + 26
    parts.append(f"<text x='{x + label_w + plot_w / 2:.1f}' y='{axis_y}' {FONT} font-size='11' "
                 f"text-anchor='middle' fill='#333'>{escape(unit)}</text>")
    return parts, axis_y - y + 12


def grid_svg(title, subtitle, panels, columns=2, panel_w=560):
    """panels: list of kwargs dicts for bar_panel (without x, y, width)."""
    body, heights = [], []
    col_y = [70] * columns
    for i, p in enumerate(panels):
        c = i % columns
        frags, h = bar_panel(x=20 + c * (panel_w + 20), y=col_y[c], width=panel_w, **p)
        body += frags
        col_y[c] += h + 20
        heights.append(h)
    total_w = columns * (panel_w + 20) + 20
    total_h = max(col_y) + 10
    head = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{total_w}' height='{total_h}' "
            f"viewBox='0 0 {total_w} {total_h}'>",
            "<rect width='100%' height='100%' fill='white'/>",
            f"<text x='20' y='28' {FONT} font-size='18' font-weight='bold'>{escape(title)}</text>",
            f"<text x='20' y='50' {FONT} font-size='12' fill='#444'>{escape(subtitle)}</text>"]
    return "\n".join(head + body + ["</svg>"]) + "\n"
