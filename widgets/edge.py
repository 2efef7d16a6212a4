"""A table cell cut by the right edge of the view ends with an ellipsis, so that a cut value never reads as
a whole one ("update demo.txt" for "update demo.txt again")."""

from __future__ import annotations

from rich.segment import Segment

ELLIPSIS = "\u2026"


def mark_cut(segments: list[Segment], edge: int, start: int, end: int) -> list[Segment]:
    """``segments`` is one line and the cell spanning columns ``[start, end)`` of it (padding included) is
    cut by a view that ends at column ``edge``: when some of its text lies beyond the edge, the last column
    in view becomes an ellipsis. Returns the line (the same list when nothing is cut)."""
    if not start < edge < end:
        return segments
    total = Segment.get_line_length(segments)
    before, last, hidden, after = Segment.divide(segments, [edge - 1, edge, min(end, total), total])
    if not "".join(segment.text for segment in hidden).strip():
        return segments  # only padding (or blanks) lies beyond the edge
    style = last[0].style if last else None
    return [*before, Segment(ELLIPSIS, style), *hidden, *after]
