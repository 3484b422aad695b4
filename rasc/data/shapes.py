"""Polygon geometry and the label canvas the procedural illustrations are drawn on.

Geometry lives in unit image coordinates: x to the right and y downwards, both in [0, 1] across the image, so one
drawing renders at any size. `LabelCanvas` rasterises polygons with OpenCV into an integer *primitive* map: every
filled shape gets its own primitive id (drawn later = in front), and every id carries a colour group and a part class.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

SUBPIXEL_BITS = 4  # fixed-point bits handed to cv2.fillPoly(shift=...): 1/16 px vertex precision


def rotation(angle: float) -> np.ndarray:
    """2×2 rotation matrix for `angle` radians (positive = clockwise on screen, since y points down)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def place(points: np.ndarray, origin: tuple[float, float], scale: float, angle: float = 0.0) -> np.ndarray:
    """Map local points (..., 2) to image coordinates: rotate by `angle`, scale, then translate to `origin`."""
    return Frame(origin, scale, angle)(points)


class Frame:
    """A similarity transform from a local drawing frame to image coordinates (rotate, scale, translate)."""

    def __init__(self, origin: tuple[float, float], scale: float, angle: float = 0.0):
        self.matrix = rotation(angle).T * scale  # (2, 2) applied on the right of row vectors
        self.origin = np.asarray(origin, dtype=np.float64)

    def __call__(self, points) -> np.ndarray:
        return _affine(np.asarray(points, dtype=np.float64), self.matrix, self.origin)


def _affine(points: np.ndarray, matrix: np.ndarray, offset) -> np.ndarray:
    """points (..., 2) @ matrix (2, 2) + offset, written out (a BLAS call per tiny polygon costs more than it saves)."""
    return points[..., :1] * matrix[0] + points[..., 1:] * matrix[1] + offset


@lru_cache(maxsize=256)
def _unit_arc(n: int, start: float, stop: float) -> np.ndarray:
    """Points (n, 2) on the unit circle from angle `start` to `stop` (the full circle without a repeated end)."""
    full = stop - start >= 2 * np.pi - 1e-9
    t = np.linspace(start, stop, n, endpoint=not full)
    arc = np.stack([np.cos(t), np.sin(t)], axis=1)
    arc.flags.writeable = False
    return arc


def ellipse(
    cx: float,
    cy: float,
    a: float,
    b: float,
    angle: float = 0.0,
    n: int = 28,
    start: float = 0.0,
    stop: float = 2 * np.pi,
) -> np.ndarray:
    """Points (n, 2) on an ellipse with semi-axes a, b rotated by `angle`, from angle `start` to `stop`."""
    local = _unit_arc(n, float(start), float(stop)) * (a, b)  # (n, 2)
    return _affine(local, rotation(angle).T, (cx, cy)) if angle else local + (cx, cy)


def circles(centres: np.ndarray, radius: float | np.ndarray, n: int = 12) -> np.ndarray:
    """Many circles at once: polygons (m, n, 2) around `centres` (m, 2) with scalar or per-circle (m,) radius."""
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(centres),))
    return centres[:, None, :] + radius[:, None, None] * _unit_arc(n, 0.0, 2 * np.pi)[None]


def rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Axis-aligned rectangle as 4 points (4, 2)."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def star(cx: float, cy: float, r_out: float, r_in: float, spikes: int, angle: float = 0.0) -> np.ndarray:
    """Star polygon (2·spikes, 2) alternating outer and inner radius."""
    t = angle + np.arange(2 * spikes) * np.pi / spikes
    r = np.where(np.arange(2 * spikes) % 2 == 0, r_out, r_in)
    return np.stack([cx + r * np.sin(t), cy - r * np.cos(t)], axis=1)


@lru_cache(maxsize=64)
def _bernstein(n: int) -> np.ndarray:
    """Quadratic Bernstein weights (n, 3) at n evenly spaced parameters in [0, 1]."""
    t = np.linspace(0.0, 1.0, n)
    weights = np.stack([(1 - t) ** 2, 2 * (1 - t) * t, t**2], axis=1)
    weights.flags.writeable = False
    return weights


def bezier(p0, p1, p2, n: int = 10) -> np.ndarray:
    """Points (n, 2) on the quadratic Bézier curve with control points p0, p1, p2."""
    w = _bernstein(n)
    return w[:, :1] * np.asarray(p0) + w[:, 1:2] * np.asarray(p1) + w[:, 2:] * np.asarray(p2)


def thick_path(centre: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Polygon (2n, 2) around a polyline `centre` (n, 2) whose full width at each vertex is `widths` (n,)."""
    centre = np.asarray(centre, dtype=np.float64)
    tangent = np.empty_like(centre)  # (n, 2) central differences, one-sided at the ends
    tangent[1:-1] = centre[2:] - centre[:-2]
    tangent[0], tangent[-1] = centre[1] - centre[0], centre[-1] - centre[-2]
    tangent /= np.sqrt((tangent**2).sum(axis=1, keepdims=True)) + 1e-12
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1) * (np.asarray(widths)[:, None] / 2)
    return np.concatenate([centre + normal, (centre - normal)[::-1]])


def strand(
    root, control, tip, root_width: float, tip_width: float = 0.0, n: int = 10, bulge: float = 0.0
) -> np.ndarray:
    """Tapered curved strand (hair lock, tail, ribbon end): a Bézier centreline with width root → tip.

    `bulge` widens the middle (a lock that swells before it tapers).
    """
    t = np.linspace(0.0, 1.0, n)
    widths = root_width * (1 - t) + tip_width * t + bulge * np.sin(np.pi * t)
    return thick_path(bezier(root, control, tip, n), widths)


def wavy_strand(root, tip, root_width: float, amplitude: float, waves: float, phase: float, n: int = 16) -> np.ndarray:
    """Tapered strand along a straight axis with a sinusoidal sideways wave (long wavy hair)."""
    root, tip = np.asarray(root, dtype=np.float64), np.asarray(tip, dtype=np.float64)
    t = np.linspace(0.0, 1.0, n)[:, None]
    axis = tip - root
    side = np.array([-axis[1], axis[0]]) / (np.linalg.norm(axis) + 1e-12)
    centre = root + t * axis + side * amplitude * np.sin(2 * np.pi * waves * t + phase) * t
    widths = root_width * (1.0 - 0.85 * t[:, 0]) + 0.3 * root_width * np.sin(np.pi * t[:, 0])
    return thick_path(centre, widths)


class LabelCanvas:
    """An int32 primitive-id map with, per id, its colour group, part class and whether it is outlined.

    Id 0 is reserved for "nothing drawn"; `fill` returns the id it painted. `clip` confines later fills to the
    pixels of given parent ids (patterns on a garment, iris inside the eye white).
    """

    def __init__(self, size: int):
        self.size = size
        self.ids = np.zeros((size, size), dtype=np.int32)  # (H, W) primitive id, 0 = empty
        self.group_of: list[int] = [-1]  # colour group of each primitive id
        self.part_of: list[int] = [0]  # part class of each primitive id
        self.casts_shadow: list[bool] = [False]  # whether the primitive casts a cel shadow on what lies behind it
        self._scale = size * (1 << SUBPIXEL_BITS)

    @property
    def n_ids(self) -> int:
        """Number of primitive ids handed out, including the reserved 0."""
        return len(self.group_of)

    def new_id(self, group: int, part: int, casts_shadow: bool = True) -> int:
        """Reserve a primitive id with its colour group and part class."""
        self.group_of.append(group)
        self.part_of.append(part)
        self.casts_shadow.append(casts_shadow)
        return len(self.group_of) - 1

    def to_fixed(self, points: np.ndarray) -> np.ndarray:
        """Unit coordinates (n, 2) → OpenCV fixed-point pixel coordinates (n, 2) int32 (pixel centres at .5)."""
        return np.round(np.asarray(points) * self._scale - (1 << (SUBPIXEL_BITS - 1))).astype(np.int32)

    def fill(
        self,
        polygons: np.ndarray | list[np.ndarray],
        group: int,
        part: int,
        casts_shadow: bool = True,
        target: np.ndarray | None = None,
        pid: int | None = None,
    ) -> int:
        """Fill polygons (unit coordinates) with one new primitive id (or the existing `pid`); returns the id.

        `polygons`: one polygon (n, 2), a stack of equal-sized polygons (m, n, 2), or a list of polygons. Disjoint
        polygons of one id still become separate regions; overlapping ones merge into one shape without an outline.
        """
        if pid is None:
            pid = self.new_id(group, part, casts_shadow)
        elif not 0 < pid < self.n_ids or (self.group_of[pid], self.part_of[pid]) != (group, part):
            raise ValueError(f"primitive id {pid} is not an existing id of group {group} and part {part}")
        if isinstance(polygons, np.ndarray):
            fixed = self.to_fixed(polygons)
            polys = [fixed] if fixed.ndim == 2 else list(fixed)
        else:
            polys = [self.to_fixed(p) for p in polygons]
        cv2.fillPoly(self.ids if target is None else target, polys, pid, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
        return pid

    def clip(self, parent_ids: list[int] | np.ndarray) -> "_ClippedDraw":
        """Context manager: fills inside it only land on pixels that currently hold one of `parent_ids`."""
        return _ClippedDraw(self, np.asarray(parent_ids, dtype=np.int64))

    def lookup(self, ids: list[int] | np.ndarray) -> np.ndarray:
        """Boolean table over primitive ids, True for `ids` (index it with the id map to get a mask)."""
        table = np.zeros(self.n_ids + 1, dtype=bool)
        table[np.asarray(ids, dtype=np.int64)] = True
        return table


class _ClippedDraw:
    """Collects fills on a scratch map and pastes them where the canvas holds a parent id (one masked copy
    over the bounding box of what was drawn)."""

    def __init__(self, canvas: LabelCanvas, parent_ids: np.ndarray):
        self.canvas = canvas
        self.parent_ids = parent_ids
        self.scratch = np.zeros_like(canvas.ids)  # (H, W)
        self.box = [canvas.size, canvas.size, 0, 0]  # x0, y0, x1, y1 (exclusive) of everything drawn

    def fill(self, polygons: np.ndarray | list[np.ndarray], group: int, part: int, casts_shadow: bool = False) -> int:
        points = np.concatenate([np.reshape(p, (-1, 2)) for p in polygons]) if isinstance(polygons, list) else polygons
        lo = np.floor(np.min(np.reshape(points, (-1, 2)), axis=0) * self.canvas.size).astype(int) - 1
        hi = np.ceil(np.max(np.reshape(points, (-1, 2)), axis=0) * self.canvas.size).astype(int) + 2
        self.box = [min(self.box[0], lo[0]), min(self.box[1], lo[1]), max(self.box[2], hi[0]), max(self.box[3], hi[1])]
        return self.canvas.fill(polygons, group, part, casts_shadow, target=self.scratch)

    def __enter__(self) -> "_ClippedDraw":
        return self

    def __exit__(self, *exc) -> None:
        size = self.canvas.size
        x0, y0 = max(self.box[0], 0), max(self.box[1], 0)
        x1, y1 = min(self.box[2], size), min(self.box[3], size)
        if exc[0] is not None or len(self.parent_ids) == 0 or x1 <= x0 or y1 <= y0:
            return
        ids = self.canvas.ids[y0:y1, x0:x1]  # a view: writes land on the canvas
        scratch = self.scratch[y0:y1, x0:x1]
        inside = self.canvas.lookup(self.parent_ids)[ids] & (scratch > 0)
        ids[inside] = scratch[inside]
