#!/usr/bin/env python3
"""Draws the curve of scripts/bench.sh's table: seconds against rows, both
axes logarithmic, one line per engine, for one thread count. Standard
library only (the SVG is written by hand).

    scripts/bench_plot.py TABLE.md OUT.svg [THREADS]    default threads: 2
"""
import math
import sys

ENGINES = [
    ("stomp-audit", "#1b6ca8"),
    ("duckdb", "#d9822b"),
    ("polars", "#3a9a5b"),
    ("polars read only (decode floor)", "#888888"),
]


def read(path, threads):
    """{engine: [(rows, seconds)]} from the markdown table."""
    points = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9:  # with a format column
            cells = cells[:2] + cells[3:]
        if len(cells) != 8 or not cells[0].isdigit() or cells[2] != threads:
            continue
        points.setdefault(cells[3], []).append((int(cells[1]), float(cells[4])))
    return points


def draw(points, threads):
    w, h, left, right, top, bottom = 640, 400, 70, 230, 30, 50
    all_pts = [p for pts in points.values() for p in pts]
    xs = [math.log10(r) for r, _ in all_pts]
    ys = [math.log10(max(s, 0.01)) for _, s in all_pts]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs))
    y0, y1 = math.floor(min(ys)), math.ceil(max(ys))
    sx = lambda v: left + (math.log10(v) - x0) / (x1 - x0) * (w - left - right)
    sy = lambda v: h - bottom - (math.log10(max(v, 0.01)) - y0) / (y1 - y0) * (h - top - bottom)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="13">Seconds against rows, {threads} '
        f'thread{"s" if threads != "1" else ""}, same audit, same Parquet files</text>',
    ]
    for e in range(x0, x1 + 1):
        x = sx(10**e)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{h - bottom}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{h - bottom + 16}" text-anchor="middle">10^{e}</text>')
    for e in range(y0, y1 + 1):
        y = sy(10**e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{10**e:g} s</text>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 12}" text-anchor="middle">rows</text>')
    for i, (engine, colour) in enumerate(ENGINES):
        pts = sorted(points.get(engine, []))
        if not pts:
            continue
        path = " ".join(f"{sx(r):.1f},{sy(s):.1f}" for r, s in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for r, s in pts:
            out.append(f'<circle cx="{sx(r):.1f}" cy="{sy(s):.1f}" r="3" fill="{colour}"/>')
        ly = top + 20 + i * 20
        out.append(f'<line x1="{w - right + 15}" y1="{ly}" x2="{w - right + 35}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{w - right + 40}" y="{ly + 4}">{engine}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    threads = sys.argv[3] if len(sys.argv) > 3 else "2"
    points = read(sys.argv[1], threads)
    if not points:
        sys.exit(f"no rows with {threads} threads in {sys.argv[1]}")
    with open(sys.argv[2], "w") as fh:
        fh.write(draw(points, threads))


if __name__ == "__main__":
    main()
