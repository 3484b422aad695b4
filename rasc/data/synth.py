"""Procedural anime-style illustrations with ground truth (DESIGN §2): colour image, flat regions, parts, colour groups.

Every sample is a flat-coloured character with dark outlines in front of a cluttered background, drawn from one of
a handful of archetypes (`palette.ARCHETYPES`) whose shapes carry colour families. Drawing happens on a label canvas
(`shapes.LabelCanvas`): every filled shape is a *primitive* with a colour group and a part class. Then:

- **ink** (the outlines): pixels where two primitives meet, thickened to `line_width`; painted near-black in the
  colour image and exactly the dark pixels of `lines_clean` (test set B's clean line art). Overlays drawn after the
  ink (cel shadows, blush, hair shine, eye highlights, the lighter lower iris) have no outline, as in anime art.
- **regions**: the connected flat-colour areas, i.e. 4-connected pieces of one primitive after removing ink and the
  one-pixel seams between primitives. Pieces smaller than `min_region_area` px are inked over (at small sizes a
  tiny shape is all line, as in real line art); every ink and seam pixel is then given to a neighbouring region
  (repeated dilation), so labels 0..K-1 cover every pixel.
- **colour**: every non-ink pixel takes its region's group colour, so "flat in colour" is exact: all pixels of a
  region outside the ink (`lines_clean == 0`) share one colour, and all regions of one group share that colour.
  Cel shadows are separate regions in a separate group (one shadow group per shaded group, a darker tone);
  `region_shadow` marks them.
- **colour re-draws**: every colour decision goes through `_Scene.draw`, so `render_illustration(rng, cfg,
  colour_rng)` gives the same drawing with new colours: other valid colourings of one line drawing
  (`rasc.data.alternatives`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from rasc.data.layout import stack_illustrations
from rasc.data.palette import (
    ARCHETYPES,
    FAMILIES,
    SKIN,
    Family,
    family_index,
    lighten,
    sample_colour,
    shade,
)
from rasc.data.shapes import (
    Frame,
    LabelCanvas,
    bezier,
    circles,
    ellipse,
    rect,
    star,
    strand,
    thick_path,
    wavy_strand,
)

PART_NAMES: tuple[str, ...] = (
    "background",
    "skin",
    "hair",
    "eye_white",
    "iris",
    "pupil",
    "highlight",
    "brow_lash",
    "mouth",
    "top",
    "collar",
    "bottom",
    "legwear",
    "accessory",
    "object",  # any other drawing (OpenMoji's colour layers, rasc.data.openmoji); the procedural data has none
)
_P = {name: i for i, name in enumerate(PART_NAMES)}


@dataclass(frozen=True)
class SynthConfig:
    """How procedural illustrations are drawn. Lengths given "at 128²" scale with the image size."""

    size: int = 128  # side of the square images in px (works from 32; designed for 64..512)
    shadow_prob: float = 0.0  # probability that a character gets cel shadows (extra darker regions, own groups)
    eye_follows_hair: float = 0.8  # probability that the iris colour family is the hair colour family
    off_archetype: float = 0.15  # probability, per part (hair/top/bottom/accent), of a random colour family
    pattern_prob: float = 0.6  # probability that the top / the bottom carries a pattern (stripes, checks, dots)
    accessory_prob: float = 0.7  # probability of each accessory kind (hair ribbon/clips, belt, buttons, ...)
    detail: float = 1.0  # multiplier of the number of hair strands, pleats and frills
    hair_locks: bool = True  # outline every hair lock; False: the hair is one flat silhouette (simple cel art)
    clutter: float = 1.0  # multiplier of the number of background objects (0 = plain wall)
    wallpaper_prob: float = 0.75  # probability that the wall carries a pattern (stripes, dots, diamonds)
    zoom: float = 1.0  # framing: multiplier of the head size (2 ≈ a face close-up with fewer, larger regions)
    zoom_spread: float = 1.0  # ≥ 1: each drawing's zoom is log-uniform in [zoom / spread, zoom · spread] (1 = fixed)
    line_width: float = 1.25  # outline width in px at 128² (rounded, at least 1 px)
    min_region_area: float = 5.0  # flat pieces smaller than this many px (at any size) are inked over
    rough_jitter: float = 1.0  # displacement amplitude of the rough line art in px at 128²
    rough_gaps: float = 0.08  # fraction of the rough line art's length erased as small gaps

    def __post_init__(self):
        if not 32 <= self.size <= 2048:
            raise ValueError(f"SynthConfig.size must be in [32, 2048], got {self.size}")
        for name in (
            "shadow_prob",
            "eye_follows_hair",
            "off_archetype",
            "pattern_prob",
            "accessory_prob",
            "wallpaper_prob",
            "rough_gaps",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"SynthConfig.{name} must be a probability in [0, 1], got {getattr(self, name)}")
        for name in ("detail", "clutter", "line_width", "min_region_area", "rough_jitter"):
            if getattr(self, name) < 0:
                raise ValueError(f"SynthConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.line_width <= 0:
            raise ValueError("SynthConfig.line_width must be > 0")
        if not 0.5 <= self.zoom <= 4.0:
            raise ValueError(f"SynthConfig.zoom must be in [0.5, 4], got {self.zoom}")
        if not 1.0 <= self.zoom_spread <= 4.0:
            raise ValueError(f"SynthConfig.zoom_spread must be in [1, 4], got {self.zoom_spread}")


@dataclass(frozen=True)
class Illustration:
    """One procedural illustration and its ground truth (K regions, G colour groups)."""

    color: np.ndarray  # (H, W, 3) uint8 RGB, outlines included
    regions: np.ndarray  # (H, W) uint16 flat-region labels 0..K-1, every pixel labelled
    parts: np.ndarray  # (H, W) uint8 part class, index into PART_NAMES (constant within a region)
    region_group: np.ndarray  # (K,) int32 colour group 0..G-1 of each region
    region_shadow: np.ndarray  # (K,) bool, True for cel-shadow regions
    group_color: np.ndarray  # (G, 3) uint8 colour of each group
    group_names: tuple[str, ...]  # (G,) semantic name of each group ("hair", "iris", "top", "shadow:hair", ...)
    lines_clean: np.ndarray  # (H, W) uint8 clean line art from the geometry: 0 on the outlines, 255 elsewhere
    lines_rough: np.ndarray  # (H, W) uint8 rough line art: jittered, varying width, small gaps
    archetype: int  # index into palette.ARCHETYPES
    families: dict[str, int] = field(default_factory=dict)  # colour family drawn for hair/eyes/top/bottom/accent


class _Groups:
    """Colour groups of one drawing: name, colour, and whether cel shadows may fall on it."""

    def __init__(self):
        self.names: list[str] = []
        self.colors: list[np.ndarray] = []
        self.shadowable: list[bool] = []

    def add(self, name: str, rgb: np.ndarray, shadowable: bool = False) -> int:
        self.names.append(name)
        self.colors.append(np.asarray(rgb, dtype=np.uint8))
        self.shadowable.append(shadowable)
        return len(self.names) - 1


def _pastel(rng: np.random.Generator, light: bool = True) -> Family:
    """A random background family: any hue, low saturation, light (or mid) value."""
    hue = rng.uniform(0, 360)
    val = (0.80, 0.97) if light else (0.55, 0.85)
    return Family("pastel", (hue, hue + 20), (0.10, 0.40), val)


def _tone(rng: np.random.Generator, families: tuple[str | int, ...]) -> np.ndarray:
    """A colour from one of `families` (names or indices into FAMILIES), picked uniformly → RGB uint8 (3,)."""
    pick = families[0] if len(families) == 1 else families[int(rng.integers(len(families)))]
    return sample_colour(rng, FAMILIES[family_index(pick) if isinstance(pick, str) else int(pick)])


def size_zoom(size: int) -> float:
    """Head-size factor of an image side: closer crops where pixels are scarce (1.5 at 64², 1 from 128²)."""
    return min(1.5, max(1.0, (128 / size) ** 0.6))


def size_detail(size: int) -> float:
    """Factor of the number of hair strands, pleats and frills: fewer where pixels are scarce (1 from 128²)."""
    return min(1.0, 0.6 + 0.4 * size / 128)


def framed_as(cfg: SynthConfig, size: int) -> SynthConfig:
    """``cfg`` drawn at another side ``size`` but framed as at ``cfg.size``: head size, detail and the smallest flat
    piece the same relative to the image, the line width and rough-line jitter scaling as usual (a larger scan of
    about the same drawings, from the same seeds; the top margin still follows ``zoom``, so heads shift a little)."""
    scale = size / cfg.size
    return replace(cfg, size=size, zoom=cfg.zoom * (size_zoom(cfg.size) / size_zoom(size)),
                   detail=cfg.detail * (size_detail(cfg.size) / size_detail(size)),
                   min_region_area=cfg.min_region_area * scale**2)


class _Scene:
    """Draws one character and background on a label canvas; methods go back to front."""

    def __init__(self, rng: np.random.Generator, cfg: SynthConfig, colour_rng: np.random.Generator | None = None):
        self.rng, self.cfg = rng, cfg
        self.colour_rng = colour_rng  # None: colours from rng; else colours re-drawn from it (see draw)
        self.canvas = LabelCanvas(cfg.size)
        self.groups = _Groups()
        self.archetype = int(rng.integers(len(ARCHETYPES)))
        self.arch = ARCHETYPES[self.archetype]
        self.families = self.draw(self._draw_families)
        self.px = 1.0 / cfg.size  # one pixel in image units
        self.detail = cfg.detail * size_detail(cfg.size)  # fewer strands where pixels are scarce
        self.tie_points: list[tuple[float, float]] = []  # head-local points where hair ties/ribbons go
        self.puffy = False  # puffy short sleeves (dress-like outfits)
        self.sleeve_stripes = False  # accent stripes along the sleeves (sporty outfits)
        self.shadow_ids: set[int] = set()  # primitive ids of cel shadows
        self.hair_pid: int | None = None  # the one hair primitive when cfg.hair_locks is False
        self.ink: np.ndarray | None = None  # (H, W) bool outline mask, set before overlays and shadows
        self._pose()
        self._palette()

    # ------------------------------------------------------------------ setup
    def _draw_families(self, rng: np.random.Generator) -> dict[str, int]:
        cfg = self.cfg
        families = {}
        for part in ("hair", "top", "bottom", "accent"):
            off = rng.random() < cfg.off_archetype
            families[part] = int(rng.integers(len(FAMILIES))) if off else family_index(getattr(self.arch, part))
        follows = rng.random() < cfg.eye_follows_hair
        families["eyes"] = families["hair"] if follows else int(rng.integers(len(FAMILIES)))
        return families

    def _pose(self):
        rng = self.rng
        zoom = self.cfg.zoom
        if self.cfg.zoom_spread > 1:  # drawn only then: fixed-zoom data stay as they were
            zoom *= self.cfg.zoom_spread ** rng.uniform(-1.0, 1.0)
        self.R = rng.uniform(0.11, 0.16) * size_zoom(self.cfg.size) * zoom  # head radius in image units
        top_margin = rng.uniform(0.07, 0.15) / zoom  # close-ups crop the top of the hair
        self.hx, self.hy = 0.5 + rng.uniform(-0.12, 0.12), 1.25 * self.R + top_margin
        self.tilt = rng.uniform(-0.2, 0.2)
        self.lean = rng.uniform(-0.06, 0.06)
        self.bx = self.hx - np.sin(self.tilt) * 0.3 * self.R
        self.by = self.hy + 1.45 * self.R
        self.sw = rng.uniform(0.95, 1.15)  # shoulder half-width in head radii
        self.head = Frame((self.hx, self.hy), self.R, self.tilt)  # head-local (radius 1, origin head centre) → image
        self.body = Frame((self.bx, self.by), self.R, self.lean)  # body-local (head radii, origin neck base) → image

    def draw(self, colour_draw: Callable[[np.random.Generator], Any]) -> Any:
        """The value of `colour_draw(rng)`, a colour decision (a colour, a family choice).

        With a `colour_rng`, the draw is made on the drawing's own generator too, and that value discarded: the
        generator advances exactly as in the original drawing, so every later shape draw and hence every shape,
        region and group is the same, while the colours come from `colour_rng`. Shape draws never go through here.
        """
        value = colour_draw(self.rng)
        return value if self.colour_rng is None else colour_draw(self.colour_rng)

    def sample(self, family: Family) -> np.ndarray:
        """A colour drawn inside one family's box."""
        return self.draw(lambda rng: sample_colour(rng, family))

    def pastel(self, light: bool = True) -> np.ndarray:
        """A background colour: a random pastel family, then a colour inside it."""
        return self.draw(lambda rng: sample_colour(rng, _pastel(rng, light)))

    def _colour(self, key: str) -> np.ndarray:
        """A colour of the family drawn for `key` (hair, eyes, top, bottom, accent)."""
        return self.tone(self.families[key])

    def tone(self, *families: str | int) -> np.ndarray:
        """A colour from one of the given families (names or indices into FAMILIES), picked uniformly."""
        return self.draw(lambda rng: _tone(rng, families))

    def _palette(self):
        rng, g = self.rng, self.groups
        self.hair_rgb = self._colour("hair")
        self.g_hair = g.add("hair", self.hair_rgb, shadowable=True)
        self.g_skin = g.add("skin", self.sample(SKIN), shadowable=True)
        self.g_top = g.add("top", self._colour("top"), shadowable=True)
        one_piece = self.arch.outfit in ("dress",)
        self.g_bottom = self.g_top if one_piece else g.add("bottom", self._colour("bottom"), shadowable=True)
        self.g_accent = g.add("accent", self._colour("accent"), shadowable=True)
        self.accent_rgb = g.colors[self.g_accent]
        self.ink_rgb = np.array([rng.integers(18, 45), rng.integers(14, 35), rng.integers(20, 45)], dtype=np.uint8)

    def fill(self, pts, group: int, part: str, target=None, casts_shadow: bool | None = None) -> int:
        """Fill polygons on the canvas (or on a clipped draw `target`); clipped fills cast no shadow by default."""
        casts = (target is None) if casts_shadow is None else casts_shadow
        if part == "hair" and not self.cfg.hair_locks:  # every lock joins one silhouette, no lines inside it
            if target is None:
                self.hair_pid = self.canvas.fill(pts, group, _P[part], casts_shadow=casts, pid=self.hair_pid)
            return self.hair_pid  # clipped locks (inside a bun) would only draw lines within the silhouette
        return (self.canvas if target is None else target).fill(pts, group, _P[part], casts_shadow=casts)

    # ------------------------------------------------------------- background
    def background(self):
        rng, cfg, g = self.rng, self.cfg, self.groups
        wall = g.add("wall", self.pastel())
        self.fill(rect(0, 0, 1, 1), wall, "background")
        paper = "plain"
        if rng.random() < cfg.wallpaper_prob:
            paper = rng.choice(["stripes", "dots", "diamonds"], p=[0.4, 0.333, 0.267])
        if paper == "stripes":
            g_s = g.add("wall_stripes", self.pastel())
            period = max(rng.uniform(0.06, 0.14), 8 * self.px)
            for x in np.arange(rng.uniform(0, period), 1, period):
                self.fill(rect(x, 0, x + period * rng.uniform(0.3, 0.5), 1), g_s, "background")
        elif paper == "dots":
            g_d = g.add("wall_dots", self.pastel())
            period = max(rng.uniform(0.07, 0.12), 10 * self.px)
            self.fill(circles(_stagger(0, 0, 1.05, 1.05, period), period * 0.22), g_d, "background")
        elif paper == "diamonds":
            g_d = g.add("wall_diamonds", self.pastel())
            period = max(rng.uniform(0.1, 0.18), 10 * self.px)
            self.fill(
                _stagger(0, 0, 1.1, 1.1, period)[:, None, :] + star(0, 0, period * 0.35, period * 0.25, 2)[None],
                g_d,
                "background",
            )
        if rng.random() < 0.55:
            self._floor()
        lam = cfg.clutter * rng.gamma(0.8, 3.5)  # heavy-tailed: most rooms tidy, a few very busy
        kinds = ["window", "shelf", "picture", "bokeh", "stars", "plant", "clouds"]
        for kind in rng.choice(kinds, size=min(int(rng.poisson(lam)), 24)):
            getattr(self, f"_bg_{kind}")()

    def _floor(self):
        rng, g = self.rng, self.groups
        horizon = rng.uniform(0.62, 0.85)
        floor = g.add("floor", self.pastel(light=False))
        self.fill(rect(0, horizon, 1, 1), floor, "background")
        if rng.random() < 0.6:
            plank = g.add("floor_planks", self.pastel(light=False))
            width = rng.uniform(0.05, 0.1)
            for x in np.arange(-0.5, 1.5, width * 2):
                pts = np.array(
                    [[x, horizon], [x + width, horizon], [0.5 + (x + width - 0.5) * 1.6, 1], [0.5 + (x - 0.5) * 1.6, 1]]
                )
                self.fill(pts, plank, "background")

    def _spot(self, w: float, h: float) -> tuple[float, float]:
        return self.rng.uniform(-0.1, 1.0 - w + 0.1), self.rng.uniform(-0.05, 0.75 - h)

    def _bg_window(self):
        rng, g = self.rng, self.groups
        w, h = rng.uniform(0.18, 0.4), rng.uniform(0.2, 0.4)
        x0, y0 = self._spot(w, h)
        frame = g.add("window_frame", self.tone("white"))
        glass = g.add("window_glass", self.sample(Family("sky", (190, 215), (0.2, 0.45), (0.85, 1.0))))
        self.fill(rect(x0, y0, x0 + w, y0 + h), frame, "background")
        cols, rows = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        bar = 0.018
        pane_w, pane_h = (w - bar * (cols + 1)) / cols, (h - bar * (rows + 1)) / rows
        panes = []
        for c in range(cols):
            for r in range(rows):
                px, py = x0 + bar + c * (pane_w + bar), y0 + bar + r * (pane_h + bar)
                panes.append(self.fill(rect(px, py, px + pane_w, py + pane_h), glass, "background"))
        if rng.random() < 0.6:
            shine = g.add("window_shine", lighten(g.colors[glass], 0.6))
            with self.canvas.clip(panes) as clip:
                for _ in range(int(rng.integers(1, 3))):
                    cx = x0 + rng.uniform(0, w)
                    band = np.array([[cx, y0], [cx + 0.03, y0], [cx - 0.05, y0 + h], [cx - 0.08, y0 + h]])
                    self.fill(band, shine, "background", target=clip)
        if rng.random() < 0.6:
            curtain = g.add("curtain", self.pastel(light=False))
            for side in (0, 1):
                cx = x0 - 0.04 if side == 0 else x0 + w + 0.04
                folds = int(rng.integers(2, 5))
                fw = rng.uniform(0.025, 0.04)
                for f in range(folds):
                    fx = cx + (f - folds / 2) * fw * 0.8
                    pts = np.array(
                        [
                            [fx, y0 - 0.04],
                            [fx + fw, y0 - 0.04],
                            [fx + fw * 1.4, y0 + h + 0.05],
                            [fx - fw * 0.2, y0 + h + 0.05],
                        ]
                    )
                    self.fill(pts, curtain, "background")

    def _bg_shelf(self):
        rng, g = self.rng, self.groups
        w, h = rng.uniform(0.25, 0.45), rng.uniform(0.3, 0.5)
        x0, y0 = self._spot(w, h)
        wood = g.add("shelf", self.tone("brown"))
        self.fill(rect(x0, y0, x0 + w, y0 + h), wood, "background")
        books = [g.add("book", self.tone(*range(len(FAMILIES)))) for _ in range(rng.integers(2, 5))]
        shelves = int(rng.integers(2, 4))
        sh = h / shelves
        for s in range(shelves):
            x = x0 + 0.015
            while True:
                bw = rng.uniform(0.02, 0.045)
                if x + bw > x0 + w - 0.015:
                    break
                top = y0 + s * sh + sh * rng.uniform(0.15, 0.4)
                self.fill(
                    rect(x, top, x + bw, y0 + (s + 1) * sh - 0.012), books[rng.integers(len(books))], "background"
                )
                x += bw + rng.uniform(0.0, 0.008)

    def _bg_picture(self):
        rng, g = self.rng, self.groups
        w, h = rng.uniform(0.12, 0.25), rng.uniform(0.12, 0.25)
        x0, y0 = self._spot(w, h)
        frame = g.add("picture_frame", self.tone("white", "brown", "blonde"))
        canvas_group = g.add("picture", self.pastel())
        self.fill(rect(x0, y0, x0 + w, y0 + h), frame, "background")
        inner = self.fill(rect(x0 + 0.02, y0 + 0.02, x0 + w - 0.02, y0 + h - 0.02), canvas_group, "background")
        motif = g.add("picture_motif", self.tone(*range(len(FAMILIES))))
        with self.canvas.clip([inner]) as clip:
            self.fill(
                ellipse(x0 + w * rng.uniform(0.3, 0.7), y0 + h * rng.uniform(0.3, 0.7), w * 0.25, h * 0.25),
                motif,
                "background",
                target=clip,
            )
            hill = np.array([[x0, y0 + h], [x0 + w * 0.4, y0 + h * 0.55], [x0 + w, y0 + h * 0.8], [x0 + w, y0 + h]])
            self.fill(hill, g.add("picture_hill", self.tone("green")), "background", target=clip)

    def _bg_bokeh(self):
        rng, g = self.rng, self.groups
        tones = [g.add("bokeh", self.pastel()) for _ in range(rng.integers(1, 4))]
        for _ in range(rng.integers(6, 30)):
            r = rng.uniform(0.012, 0.05)
            self.fill(
                ellipse(rng.uniform(0, 1), rng.uniform(0, 1), r, r, n=16), tones[rng.integers(len(tones))], "background"
            )

    def _bg_stars(self):
        rng, g = self.rng, self.groups
        tone = g.add("stars", self.tone("blonde", "orange", "pink", "blue"))
        for _ in range(rng.integers(3, 12)):
            r = rng.uniform(0.02, 0.05)
            self.fill(
                star(rng.uniform(0, 1), rng.uniform(0, 0.8), r, r * 0.45, 5, rng.uniform(0, 1)), tone, "background"
            )

    def _bg_plant(self):
        rng, g = self.rng, self.groups
        x, y = rng.uniform(0.0, 1.0), rng.uniform(0.55, 0.9)
        pot = g.add("pot", self.tone("red", "orange", "white", "navy"))
        leaf = g.add("leaves", self.tone("green"))
        for _ in range(rng.integers(4, 10)):
            a = rng.uniform(-1.3, 1.3)
            length = rng.uniform(0.08, 0.2)
            tip = (x + np.sin(a) * length, y - np.cos(a) * length)
            self.fill(
                strand((x, y), (x + np.sin(a) * length * 0.3, y - length * 0.6), tip, 0.015, 0.0, bulge=0.02),
                leaf,
                "background",
            )
        self.fill(
            np.array([[x - 0.05, y - 0.01], [x + 0.05, y - 0.01], [x + 0.035, y + 0.09], [x - 0.035, y + 0.09]]),
            pot,
            "background",
        )

    def _bg_clouds(self):
        rng, g = self.rng, self.groups
        tone = g.add("clouds", lighten(self.pastel(), 0.5))
        for _ in range(rng.integers(1, 4)):
            cx, cy = rng.uniform(0, 1), rng.uniform(0, 0.5)
            puffs = [
                ellipse(cx + dx, cy + rng.uniform(-0.02, 0.02), r, r * 0.8, n=16)
                for dx, r in zip(np.linspace(-0.08, 0.08, 4), rng.uniform(0.03, 0.055, 4))
            ]
            self.fill(puffs, tone, "background")

    # -------------------------------------------------------------- back hair
    def back_hair(self):
        rng, style, hair = self.rng, self.arch.hair_style, self.g_hair
        d = self.detail
        self.hair_ids: list[int] = []
        add = lambda pts: self.hair_ids.append(self.fill(self.head(pts), hair, "hair"))  # noqa: E731
        if style in ("long_straight", "long_wavy"):
            n = max(3, round(rng.uniform(7, 11) * d))
            for x in rng.permutation(np.linspace(-1.05, 1.05, n)):
                root = (x, rng.uniform(-0.3, 0.3))
                tip = (x * rng.uniform(1.3, 1.7) + rng.uniform(-0.2, 0.2), rng.uniform(3.0, 4.6))
                if style == "long_wavy":
                    add(wavy_strand(root, tip, 0.65, rng.uniform(0.15, 0.3), rng.uniform(1.2, 2.2), rng.uniform(0, 6)))
                else:
                    add(strand(root, (x * 1.45, 1.6), tip, 0.6, 0.08, bulge=0.12))
        elif style == "bob":
            n = max(3, round(rng.uniform(6, 9) * d))
            for x in rng.permutation(np.linspace(-1.1, 1.1, n)):
                add(
                    strand(
                        (x, -0.2),
                        (x * 1.4, 0.5),
                        (x * 1.25 + rng.uniform(-0.1, 0.1), rng.uniform(0.95, 1.35)),
                        0.7,
                        0.2,
                    )
                )
        elif style == "short_spiky":
            n = max(4, round(rng.uniform(8, 12) * d))
            for a in np.linspace(np.pi * 0.8, np.pi * 2.2, n) + rng.uniform(-0.1, 0.1, n):
                length = rng.uniform(1.4, 1.85)
                tip = (np.cos(a) * length, np.sin(a) * length)
                mid = (np.cos(a + 0.15) * length * 0.6, np.sin(a + 0.15) * length * 0.6)
                add(strand((0, -0.1), mid, tip, 0.95, 0.0, n=6))
        elif style == "ponytail":
            side = rng.choice([-1, 1])
            for _ in range(max(3, round(rng.uniform(4, 6) * d))):
                ctrl = (side * rng.uniform(1.7, 2.1), rng.uniform(-0.3, 0.5))
                tip = (side * rng.uniform(1.1, 1.9), rng.uniform(2.0, 3.2))
                add(strand((side * 0.95, -0.65), ctrl, tip, 0.5, 0.05, bulge=0.1))
            self.tie_points = [(side * 0.98, -0.66)]
        elif style == "twin_tails":
            for side in (-1, 1):
                for _ in range(max(2, round(rng.uniform(3, 5) * d))):
                    ctrl = (side * rng.uniform(1.8, 2.4), rng.uniform(-0.1, 0.7))
                    tip = (side * rng.uniform(1.3, 2.2), rng.uniform(2.3, 3.6))
                    add(strand((side * 0.98, -0.55), ctrl, tip, 0.5, 0.04, bulge=0.12))
                self.tie_points.append((side * 1.0, -0.56))
        # the back of the skull, behind the face
        add(ellipse(0, -0.05, 1.14, 1.12, n=32))
        if style == "buns":
            for side in (-1, 1):
                c = (side * 0.68, -0.9)
                bun = self.fill(self.head(ellipse(*c, 0.4, 0.38, n=24)), hair, "hair")
                self.hair_ids.append(bun)
                with self.canvas.clip([bun]) as clip:
                    for k in range(3):
                        a = k * 2.1 + rng.uniform(0, 0.5)
                        p0 = (c[0] + np.cos(a) * 0.42, c[1] + np.sin(a) * 0.42)
                        p1 = (c[0] + np.cos(a + 1.2) * 0.1, c[1] + np.sin(a + 1.2) * 0.1)
                        self.hair_ids.append(
                            self.fill(self.head(strand(p0, p1, (c[0], c[1]), 0.22, 0.02)), hair, "hair", target=clip)
                        )

    # ------------------------------------------------------------------- body
    def dress_body(self):
        rng, sw, arch = self.rng, self.sw, self.arch
        B, g = self.body, self.groups
        outfit = arch.outfit
        trousers = outfit in ("jacket", "overalls") or (outfit == "sporty" and rng.random() < 0.5)
        # legs, optional legwear
        legs = [
            self.fill(B([(s * 0.18, 2.5), (s * 0.72, 2.5), (s * 0.62, 7.5), (s * 0.12, 7.5)]), self.g_skin, "skin")
            for s in (-1, 1)
        ]
        if not trousers and rng.random() < self.cfg.accessory_prob:
            wear = g.add("legwear", self.tone("black", "white", "navy", "grey"), shadowable=True)
            y = rng.uniform(3.8, 4.8)
            with self.canvas.clip(legs) as clip:
                self.fill(B(rect(-1, y, 1, 8)), wear, "legwear", target=clip)
        # bottom garment
        self.bottom_ids = []
        if trousers:
            for s in (-1, 1):
                self.bottom_ids.append(
                    self.fill(
                        B([(s * 0.02, 2.0), (s * 0.88, 2.0), (s * 0.95, 7.5), (s * 0.1, 7.5)]), self.g_bottom, "bottom"
                    )
                )
        else:
            hem_y, hw = rng.uniform(3.5, 4.3), rng.uniform(1.25, 1.8)
            if rng.random() < self.cfg.accessory_prob * 0.7:  # frill peeking below the hem
                frill = g.add("frill", self.tone("white", self.families["accent"]), shadowable=True)
                n = max(4, round(rng.uniform(6, 11) * self.detail))
                r = hw / n * 1.1
                lobes = np.stack([np.linspace(-hw + r, hw - r, n), np.full(n, hem_y)], axis=1)
                self._scallops(lobes, r, frill, "bottom")
            if rng.random() < 0.65:  # pleats
                n = max(3, round(rng.uniform(5, 9) * self.detail))
                top_x, hem_x = np.linspace(-0.82, 0.82, n + 1), np.linspace(-hw, hw, n + 1)
                for i in rng.permutation(n):
                    dy = rng.uniform(-0.08, 0.12, 2)
                    pts = [
                        (top_x[i], 2.0),
                        (top_x[i + 1], 2.0),
                        (hem_x[i + 1], hem_y + dy[1]),
                        (hem_x[i], hem_y + dy[0]),
                    ]
                    self.bottom_ids.append(self.fill(B(pts), self.g_bottom, "bottom"))
            else:
                hem = bezier((hw, hem_y), (0, hem_y + 0.35), (-hw, hem_y), 10)
                self.bottom_ids.append(
                    self.fill(B(np.concatenate([[(-0.82, 2.0), (0.82, 2.0)], hem])), self.g_bottom, "bottom")
                )
        # neck and torso
        self.neck_id = self.fill(B(rect(-0.27, -1.0, 0.27, 0.3)), self.g_skin, "skin")
        if outfit == "jacket" and rng.random() < 0.7:  # hood behind the neck
            self.fill(B(ellipse(0, -0.05, sw * 0.85, 0.45)), self.g_top, "top")
        hem = 2.35 if outfit != "sweater" else 2.55
        torso = [
            (-0.3, -0.08),
            (-sw * 0.75, 0.02),
            (-sw, 0.25),
            (-sw * 0.95, 0.9),
            (-0.8, 1.9),
            (-0.86, hem),
            (0.86, hem),
            (0.8, 1.9),
            (sw * 0.95, 0.9),
            (sw, 0.25),
            (sw * 0.75, 0.02),
            (0.3, -0.08),
            (0, 0.25),
        ]
        self.top_ids = [self.fill(B(torso), self.g_top, "top")]
        self._patterns()
        getattr(self, f"_outfit_{outfit}")()
        if rng.random() < self.cfg.accessory_prob * 0.6 and outfit not in ("overalls", "sweater"):
            belt = g.add("belt", self.tone("black", "brown", "navy"), shadowable=True)
            self.fill(B(rect(-0.84, 1.9, 0.84, 2.12)), belt, "accessory")
            buckle = g.add("buckle", self.tone("blonde", "silver"))
            self.fill(B(rect(-0.14, 1.86, 0.14, 2.16)), buckle, "accessory")
            self.fill(B(rect(-0.07, 1.93, 0.07, 2.09)), belt, "accessory")
        self._arms()

    def _patterns(self):
        rng, B, g = self.rng, self.body, self.groups
        for name, ids, (x0, y0, x1, y1) in (
            ("top", self.top_ids, (-1.3, -0.2, 1.3, 2.6)),
            ("bottom", self.bottom_ids, (-2.0, 1.9, 2.0, 7.5)),
        ):
            if rng.random() >= self.cfg.pattern_prob:
                continue
            kind = rng.choice(["stripes", "checks", "dots"])
            tone = self.draw(lambda r: self.accent_rgb if r.random() < 0.5 else _tone(r, ("black", "white")))
            pat = g.add(f"{name}_pattern", tone, shadowable=True)
            period = max(rng.uniform(0.32, 0.55), 8 * self.px / self.R)  # at least 8 px: finer would be all ink
            with self.canvas.clip(ids) as clip:
                if kind in ("stripes", "checks"):
                    slope = rng.choice([0.0, 0.0, 0.5, -0.5]) if kind == "stripes" else 0.0
                    ys = np.arange(y0 - abs(slope) * 4, y1 + abs(slope) * 4, period)[:, None]  # (m, 1)
                    rise = slope * (x1 - x0)
                    bands = np.stack(
                        [
                            np.hstack([np.full_like(ys, x0), ys]),
                            np.hstack([np.full_like(ys, x1), ys + rise]),
                            np.hstack([np.full_like(ys, x1), ys + rise + period * 0.4]),
                            np.hstack([np.full_like(ys, x0), ys + period * 0.4]),
                        ],
                        axis=1,
                    )  # (m, 4, 2)
                    self.fill(B(bands), pat, name, target=clip)
                if kind == "checks":
                    xs = np.arange(x0, x1, period)
                    self.fill(B(np.stack([rect(x, y0, x + period * 0.4, y1) for x in xs])), pat, name, target=clip)
                    cross = g.add(f"{name}_pattern_cross", shade(tone, 0.7, 0.0), shadowable=True)
                    corners = np.stack(np.meshgrid(xs, np.arange(y0, y1, period)), axis=-1).reshape(
                        -1, 1, 2
                    )  # (m, 1, 2)
                    self.fill(B(corners + rect(0, 0, period * 0.4, period * 0.4)[None]), cross, name, target=clip)
                if kind == "dots":
                    self.fill(B(circles(_stagger(x0, y0, x1, y1, period), period * 0.2)), pat, name, target=clip)

    def _bow(self, centre, scale: float, group: int, mapper, part: str = "accessory", tails: bool = True):
        cx, cy = centre
        wings = [
            np.array([(cx, cy), (cx + s * 0.6 * scale, cy - 0.32 * scale), (cx + s * 0.55 * scale, cy + 0.3 * scale)])
            for s in (-1, 1)
        ]
        for wing in wings:
            self.fill(mapper(wing), group, part)
        if tails:
            for s in (-1, 1):
                self.fill(
                    mapper(
                        strand(
                            (cx, cy),
                            (cx + s * 0.15 * scale, cy + 0.4 * scale),
                            (cx + s * 0.3 * scale, cy + 0.8 * scale),
                            0.22 * scale,
                            0.12 * scale,
                            n=6,
                        )
                    ),
                    group,
                    part,
                )
        self.fill(mapper(ellipse(cx, cy, 0.14 * scale, 0.13 * scale, n=12)), group, part)

    def _buttons(self, xs, ys, group: int):
        self.fill(self.body(circles(np.stack([xs, ys], axis=1), 0.08)), group, "accessory")

    def _scallops(self, points: np.ndarray, radius: float, group: int, part: str):
        for lobe in self.body(circles(points, radius)):  # one id per lobe: overlapping lobes stay separate regions
            self.fill(lobe, group, part)

    def _outfit_sailor(self):
        sw, g = self.sw, self.groups
        collar_g = g.add("collar", self.tone(self.families["bottom"]), shadowable=True)
        outer = [(-sw * 0.98, 0.2), (-sw * 0.9, 0.75), (0, 1.35), (sw * 0.9, 0.75), (sw * 0.98, 0.2)]
        collar = self.fill(self.body([(-0.3, -0.08), *outer, (0.3, -0.08), (0, 0.95)]), collar_g, "collar")
        stripe = g.add("collar_stripe", self.tone("white"))
        with self.canvas.clip([collar]) as clip:
            edge = np.array(outer) * 0.9 + (0, 0.08)
            self.fill(self.body(thick_path(edge, np.full(len(edge), 0.14))), stripe, "collar", target=clip)
        self._bow((0, 1.05), 0.9, self.g_accent, self.body)

    def _outfit_blazer(self):
        rng, g = self.rng, self.groups
        shirt = g.add("shirt", self.tone("white"), shadowable=True)
        self.fill(self.body([(-0.32, -0.08), (0.32, -0.08), (0.05, 1.5), (-0.05, 1.5)]), shirt, "collar")
        self.fill(
            self.body([(0, 0.05), (0.12, 0.2), (0.18, 1.2), (0, 1.45), (-0.18, 1.2), (-0.12, 0.2)]),
            self.g_accent,
            "collar",
        )
        for s in (-1, 1):
            lapel = [(s * 0.3, -0.08), (s * 0.62, 0.05), (s * 0.5, 0.5), (s * 0.66, 0.62), (s * 0.06, 1.55)]
            self.fill(self.body(lapel), self.g_top, "top")
        if rng.random() < self.cfg.accessory_prob:
            self._buttons(
                [-0.25, 0.25, -0.25, 0.25], [1.7, 1.7, 2.1, 2.1], g.add("button", self.tone("blonde"), shadowable=True)
            )

    def _outfit_jacket(self):
        rng, g = self.rng, self.groups
        inner = g.add("inner_shirt", self.accent_rgb, shadowable=True)
        self.fill(self.body([(-0.32, -0.08), (0.32, -0.08), (0.42, 2.4), (-0.42, 2.4)]), inner, "top")
        zip_g = g.add("zipper", self.tone("grey"))
        for s in (-1, 1):
            self.fill(self.body([(s * 0.32, -0.08), (s * 0.42, -0.08), (s * 0.52, 2.4), (s * 0.42, 2.4)]), zip_g, "top")
            self.fill(
                self.body(rect(s * 0.6 if s > 0 else -0.95, 1.5, s * 0.95 if s > 0 else -0.6, 1.9)), self.g_top, "top"
            )
        if rng.random() < 0.6:
            print_g = g.add("shirt_print", self.tone(*range(len(FAMILIES))))
            self.fill(self.body(star(0, 1.0, 0.3, 0.14, 5)), print_g, "top")

    def _outfit_sweater(self):
        rng, g = self.rng, self.groups
        collar = g.add("collar", self.tone("white"), shadowable=True)
        for s in (-1, 1):
            self.fill(self.body(ellipse(s * 0.26, 0.12, 0.32, 0.2, angle=s * 0.35, n=16)), collar, "collar")
        rib = [(-0.9, 2.3), (0.9, 2.3), (0.88, 2.6), (-0.88, 2.6)]
        band = self.fill(self.body(rib), self.g_top, "top")
        with self.canvas.clip([band]) as clip:
            for x in np.arange(-0.9, 0.9, 0.22):
                self.fill(self.body(rect(x, 2.2, x + 0.1, 2.7)), self.g_top, "top", target=clip)
        if rng.random() < self.cfg.accessory_prob:
            self._bow((0, 0.35), 0.55, self.g_accent, self.body, tails=False)

    def _outfit_sporty(self):
        rng = self.rng
        self.fill(
            self.body(thick_path(bezier((-0.42, -0.1), (0, 0.75), (0.42, -0.1), 9), np.full(9, 0.2))),
            self.g_accent,
            "collar",
        )
        self.sleeve_stripes = True
        if rng.random() < 0.6:
            self.fill(self.body(rect(-0.86, 1.2, 0.86, 1.45)), self.g_accent, "top")

    def _outfit_dress(self):
        g = self.groups
        frill = g.add("frill", self.tone("white"), shadowable=True)
        neckline = bezier((-0.62, 0.0), (0, 0.75), (0.62, 0.0), max(5, round(7 * self.detail)))
        self._scallops(neckline, 0.16, frill, "collar")
        self._bow((0, 0.85), 0.6, self.g_accent, self.body)
        self.puffy = True

    def _outfit_gothic(self):
        g = self.groups
        frill = g.add("frill", self.accent_rgb, shadowable=True)
        self._scallops(
            bezier((-0.7, -0.05), (0, 0.55), (0.7, -0.05), max(6, round(9 * self.detail))), 0.15, frill, "collar"
        )
        lace = g.add("lace", self.tone("white"))
        for y in np.arange(0.8, 2.0, 0.28):
            self.fill(
                self.body(thick_path(np.array([(-0.2, y), (0.2, y + 0.22)]), np.array([0.07, 0.07]))), lace, "top"
            )
            self.fill(
                self.body(thick_path(np.array([(0.2, y), (-0.2, y + 0.22)]), np.array([0.07, 0.07]))), lace, "top"
            )
        self._bow((0, 0.45), 0.5, self.g_accent, self.body, tails=False)
        self.puffy = True

    def _outfit_overalls(self):
        g = self.groups
        bib = self.fill(self.body([(-0.55, 0.85), (0.55, 0.85), (0.62, 2.3), (-0.62, 2.3)]), self.g_bottom, "bottom")
        self.bottom_ids.append(bib)
        for s in (-1, 1):
            self.fill(
                self.body(thick_path(np.array([(s * 0.45, 0.95), (s * 0.6, 0.1)]), np.array([0.2, 0.2]))),
                self.g_bottom,
                "bottom",
            )
        self.fill(self.body(rect(-0.3, 1.2, 0.3, 1.7)), self.g_bottom, "bottom")
        self._buttons([-0.45, 0.45], [0.95, 0.95], g.add("button", self.accent_rgb))

    def _arms(self):
        rng, sw = self.rng, self.sw
        long_sleeves = self.arch.outfit in ("blazer", "jacket", "sweater", "gothic") or rng.random() < 0.25
        puffy = self.puffy
        cuff_g = self.groups.add("cuff", self.tone("white", self.families["accent"]), shadowable=True)
        for s in (-1, 1):
            a = rng.uniform(0.08, 0.6)
            bend = rng.uniform(-0.2, 0.8)
            shoulder = np.array([s * (sw - 0.22), 0.32])
            elbow = shoulder + 1.45 * np.array([s * np.sin(a), np.cos(a)])
            wrist = elbow + 1.3 * np.array([s * np.sin(a - bend), np.cos(a - bend)])
            path = np.concatenate([np.linspace(shoulder, elbow, 5)[:-1], np.linspace(elbow, wrist, 5)])  # (9, 2)
            widths = np.linspace(0.56, 0.34, len(path))
            self.fill(self.body(thick_path(path, widths)), self.g_skin, "skin")
            direction = (wrist - elbow) / np.linalg.norm(wrist - elbow)
            hand = wrist + direction * 0.12
            angle = np.arctan2(direction[1], direction[0])
            self.fill(self.body(ellipse(*hand, 0.26, 0.2, angle=angle, n=16)), self.g_skin, "skin")
            end = 8 if long_sleeves else 3
            sleeve_w = widths[: end + 1] * 1.18 + (0.25 * np.sin(np.linspace(0, np.pi, end + 1)) if puffy else 0)
            sleeve = self.fill(self.body(thick_path(path[: end + 1], sleeve_w)), self.g_top, "top")
            if self.sleeve_stripes:
                with self.canvas.clip([sleeve]) as clip:
                    offset = np.array([direction[1], -direction[0]]) * 0.12 * s
                    self.fill(
                        self.body(thick_path(path[: end + 1] + offset, np.full(end + 1, 0.1))),
                        self.g_accent,
                        "top",
                        target=clip,
                    )
            if long_sleeves or rng.random() < 0.5:
                cuff = path[end - 1 : end + 1]
                self.fill(self.body(thick_path(cuff, np.full(2, sleeve_w[-1] * 1.05))), cuff_g, "top")

    # ------------------------------------------------------------------- head
    def face(self):
        rng, H, g = self.rng, self.head, self.groups
        chin = rng.uniform(1.12, 1.3)
        wx = rng.uniform(0.92, 1.04)
        right = np.array([(0.98, 0.42), (0.78, 0.85), (0.38, chin - 0.1), (0.0, chin)]) * (wx, 1)
        left = (right * (-1, 1))[::-1][1:]
        outline = np.concatenate([ellipse(0, 0, wx, 1.0, start=np.pi, stop=2 * np.pi, n=16), right, left])
        self.face_id = self.fill(H(outline), self.g_skin, "skin")
        # eyes
        ex, ey = rng.uniform(0.4, 0.48), rng.uniform(0.3, 0.42)
        a = rng.uniform(0.23, 0.29)  # big anime eyes: a quarter to a third of the face height
        b = a * rng.uniform(1.2, 1.45)
        gaze = rng.uniform(-0.22, 0.22) * a
        self.eye_top = ey - b  # head-local y of the top of the eyes: bangs stop just below it
        iris_rgb = self.tone(self.families["eyes"])
        g_white = g.add("eye_white", self.tone("white"))
        self.g_iris = g.add("iris", iris_rgb)
        self.g_pupil = g.add("pupil", shade(iris_rgb, 0.45, 20.0))
        g_lash = g.add("lash", shade(self.hair_rgb, 0.3, 20.0))
        g_brow = g.add("brow", shade(self.hair_rgb, 0.75, 0.0))
        self.eye_ids, self.iris_ids, self.iris_geometry = [], [], []
        for s in (-1, 1):
            cx = s * ex
            white = self.fill(H(ellipse(cx, ey, a, b, n=20)), g_white, "eye_white", casts_shadow=False)
            self.eye_ids.append(white)
            with self.canvas.clip([white]) as clip:
                iris = self.fill(
                    H(ellipse(cx + gaze, ey + 0.12 * b, 0.78 * a, 0.82 * b, n=20)), self.g_iris, "iris", target=clip
                )
            self.iris_ids.append(iris)
            self.iris_geometry.append((cx + gaze, ey + 0.12 * b, 0.78 * a, 0.82 * b))
            outer = ellipse(cx, ey + 0.05, a * 1.25, b * 1.12, start=np.pi * 1.08, stop=np.pi * 1.92, n=10)
            inner = ellipse(cx, ey + 0.05, a * 1.0, b * 0.9, start=np.pi * 1.08, stop=np.pi * 1.92, n=10)[::-1]
            flick = np.array([[cx + s * a * 1.35, ey - 0.02]]) if s > 0 else np.array([[cx - a * 1.35, ey - 0.02]])
            lash = np.concatenate([outer, flick, inner]) if s > 0 else np.concatenate([flick, outer, inner])
            self.fill(H(lash), g_lash, "brow_lash", casts_shadow=False)
            by = ey - b - rng.uniform(0.18, 0.3)
            self.fill(
                H(strand((cx - s * a, by + 0.06), (cx, by - 0.06), (cx + s * a * 1.1, by + 0.04), 0.07, 0.03, n=6)),
                g_brow,
                "brow_lash",
                casts_shadow=False,
            )
        # mouth
        my = chin - rng.uniform(0.3, 0.42)
        if rng.random() < 0.55:
            w = rng.uniform(0.1, 0.2)
            g_mouth = g.add("mouth", self.sample(Family("mouth", (350, 365), (0.5, 0.7), (0.45, 0.65))))
            mouth = self.fill(
                H(np.concatenate([[(-w, my)], bezier((w, my), (0, my + w * 2.2), (-w, my), 8)[:-1]])),
                g_mouth,
                "mouth",
                casts_shadow=False,
            )
            tongue = g.add("tongue", self.sample(Family("tongue", (345, 360), (0.35, 0.5), (0.85, 1.0))))
            with self.canvas.clip([mouth]) as clip:
                self.fill(H(ellipse(0, my + w * 1.1, w * 0.7, w * 0.45, n=12)), tongue, "mouth", target=clip)
        else:
            g_mouth = g.add("mouth", shade(self.sample(SKIN), 0.55, 0.0))
            self.fill(
                H(strand((-0.12, my), (0, my + 0.05), (0.12, my - 0.01), 0.05, 0.03, n=6)),
                g_mouth,
                "mouth",
                casts_shadow=False,
            )

    # -------------------------------------------------------------- front hair
    def front_hair(self):
        rng, H, hair, style = self.rng, self.head, self.g_hair, self.arch.hair_style
        d = self.detail
        add = lambda pts: self.hair_ids.append(self.fill(H(pts), hair, "hair"))  # noqa: E731
        if style == "braids":
            for s in (-1, 1):
                top, bottom = np.array([s * 0.9, 0.4]), np.array([s * rng.uniform(1.0, 1.2), rng.uniform(2.6, 3.5)])
                n = max(4, round(rng.uniform(6, 9) * d))
                for k, t in enumerate(np.linspace(0, 1, n)):
                    c = top + (bottom - top) * t + ((k % 2) - 0.5) * np.array([0.1, 0])
                    add(ellipse(*c, 0.27 * (1 - 0.3 * t), 0.22, angle=((k % 2) - 0.5) * 0.9, n=14))
                add(
                    strand(
                        bottom + (0, 0.1), bottom + (s * 0.1, 0.4), bottom + (s * 0.05, 0.75), 0.25, 0.05, bulge=0.08
                    )
                )
                self.tie_points.append(tuple(bottom + (0, 0.1)))
        # hair cap over the top of the skull
        cap = np.concatenate(
            [
                ellipse(0, -0.02, 1.1, 1.12, start=np.pi - 0.15, stop=2 * np.pi + 0.15, n=24),
                np.array([(0.95, 0.0), (0.5, -0.42), (0.0, -0.5), (-0.5, -0.42), (-0.95, 0.0)]),
            ]
        )
        add(cap)
        # side locks
        long_side = style in ("long_straight", "long_wavy", "twin_tails", "buns")
        for s in (-1, 1):
            tip_y = rng.uniform(1.2, 2.3) if long_side else rng.uniform(0.6, 1.2)
            if style == "short_spiky":
                add(strand((s * 0.85, -0.4), (s * 1.15, 0.2), (s * 1.25, tip_y), 0.45, 0.0, n=6))
            else:
                add(
                    strand(
                        (s * 0.9, -0.5),
                        (s * 1.18, 0.4),
                        (s * rng.uniform(0.98, 1.2), tip_y),
                        0.4,
                        0.03 if style != "bob" else 0.2,
                        bulge=0.06,
                    )
                )
                if rng.random() < 0.7:
                    add(
                        strand((s * 0.75, -0.3), (s * 0.95, 0.3), (s * 0.85, tip_y * rng.uniform(0.6, 0.9)), 0.25, 0.02)
                    )
        # bangs: many overlapping tapered locks from the crown
        n = max(3, round(rng.uniform(5, 9) * d))
        parting = rng.uniform(-0.4, 0.4)
        xs = np.linspace(-0.88, 0.88, n) + rng.uniform(-0.06, 0.06, n)
        spiky = style == "short_spiky"
        for x in rng.permutation(xs):
            root = (x * 0.9, -np.sqrt(max(0.0, 1 - (x / 1.1) ** 2)) * 1.0 + 0.05)
            sway = np.sign(x - parting) * rng.uniform(0.05, 0.25) * (2.0 if spiky else 1.0)
            tip_y = rng.uniform(-0.05, 0.3) + 0.3 * abs(x) - (0.15 if spiky else 0.0)
            if abs(x) < 0.75:  # over the eyes the bangs end at the upper lash line
                tip_y = min(tip_y, self.eye_top + 0.08)
            tip = (x * rng.uniform(1.0, 1.2) + sway, tip_y)
            ctrl = (x * 1.1 + sway * 0.3, (root[1] + tip[1]) / 2 - 0.1)
            width = 2.0 / n * rng.uniform(1.3, 1.9)
            add(strand(root, ctrl, tip, width, 0.0 if spiky else rng.uniform(0.0, 0.05), n=8, bulge=0.04))
        if rng.random() < 0.4:  # ahoge
            s = rng.choice([-1, 1])
            add(strand((0.05 * s, -0.95), (0.2 * s, -1.5), (0.45 * s, -1.35), 0.14, 0.0, n=8))

    def accessories(self):
        rng, g = self.rng, self.groups
        prob = self.cfg.accessory_prob
        ribbon = g.add("hair_ribbon", self.tone(self.families["accent"]), shadowable=True)
        for point in self.tie_points:
            if self.arch.hair_style == "twin_tails" and rng.random() < prob:
                self._bow(point, 0.7, ribbon, self.head, tails=False)
            else:
                self.fill(self.head(ellipse(*point, 0.16, 0.2, n=12)), ribbon, "accessory")
        if rng.random() < prob * 0.6:
            s = rng.choice([-1, 1])
            self._bow((s * 0.6, -0.95), 0.65, ribbon, self.head)
        if rng.random() < prob:
            clip_g = g.add("hair_clip", self.tone(*range(len(FAMILIES))))
            s = rng.choice([-1, 1])
            for k in range(int(rng.integers(1, 4))):
                c = np.array([s * (0.55 + 0.12 * k), -0.45 - 0.12 * k])
                self.fill(
                    self.head(thick_path(np.array([c - (0.2, -0.1), c + (0.2, -0.1)]), np.array([0.1, 0.1]))),
                    clip_g,
                    "accessory",
                )
        if rng.random() < prob * 0.3:
            band = g.add("hairband", self.tone(self.families["accent"]))
            arc = ellipse(0, 0.0, 1.08, 1.05, start=np.pi * 1.05, stop=np.pi * 1.95, n=14)
            self.fill(self.head(thick_path(arc, np.full(len(arc), 0.16))), band, "accessory")

    # --------------------------------------------------------------- overlays
    def overlays(self):
        """Unoutlined regions drawn after the ink: blush, eye highlights and lower-iris light, hair shine."""
        rng, g, H = self.rng, self.groups, self.head
        if rng.random() < 0.6:
            blush = g.add("blush", self.sample(Family("blush", (340, 355), (0.25, 0.4), (0.95, 1.0))))
            with self.canvas.clip([self.face_id]) as clip:
                for s in (-1, 1):
                    self.fill(H(ellipse(s * 0.55, 0.72, 0.2, 0.08, n=12)), blush, "skin", target=clip)
        fine = self.R * self.cfg.size >= 24  # head radius in px: below it, small eye details would be specks
        with self.canvas.clip(self.iris_ids) as clip:  # pupil and lighter lower iris: no outline, as in anime
            pupils = []
            if fine:
                pupils = [
                    self.fill(
                        H(ellipse(cx, cy + 0.1 * b, 0.46 * a, 0.52 * b, n=16)), self.g_pupil, "pupil", target=clip
                    )
                    for cx, cy, a, b in self.iris_geometry
                ]
                light = g.add("iris_light", lighten(g.colors[self.g_iris], 0.35))
                for cx, cy, a, b in self.iris_geometry:
                    self.fill(H(ellipse(cx, cy + b * 0.85, a * 0.9, b * 0.45, n=12)), light, "iris", target=clip)
        highlight = g.add("eye_highlight", np.array([255, 255, 255], np.uint8))
        with self.canvas.clip(self.iris_ids + pupils + self.eye_ids) as clip:
            for cx, cy, a, b in self.iris_geometry:
                self.fill(
                    H(ellipse(cx - a * 0.4, cy - b * 0.35, a * 0.3, a * 0.3, n=10)), highlight, "highlight", target=clip
                )
                if fine:
                    self.fill(
                        H(ellipse(cx + a * 0.35, cy + b * 0.35, a * 0.14, a * 0.14, n=8)),
                        highlight,
                        "highlight",
                        target=clip,
                    )
        if rng.random() < 0.6:
            shine = g.add("hair_shine", lighten(self.hair_rgb, 0.4))
            with self.canvas.clip(self.hair_ids) as clip:
                arc = ellipse(0, 0.05, 0.85, 0.85, start=np.pi * 1.1, stop=np.pi * 1.9, n=13)
                for k in range(0, 12, 2):
                    seg = arc[k : k + 2]
                    self.fill(
                        H(thick_path(np.linspace(seg[0], seg[1], 3), np.array([0.05, 0.14, 0.05]))),
                        shine,
                        "hair",
                        target=clip,
                    )

    def shadows(self):
        """Cel shadows: a darker band on the shadowable groups where a primitive in front lies towards the light."""
        canvas, g, size = self.canvas, self.groups, self.cfg.size
        dy = max(2, round(0.035 * size))
        dx = round(0.02 * size) * self.rng.choice([-1, 1])
        ids = canvas.ids
        shifted = np.zeros_like(ids)
        H, W = ids.shape
        shifted[dy:, max(dx, 0) : W + min(dx, 0)] = ids[: H - dy, max(-dx, 0) : W - max(dx, 0)]  # id at p - (dy, dx)
        group_of = np.asarray(canvas.group_of)
        receives = np.array([False] + [g.shadowable[k] for k in group_of[1:]])  # (n_ids,)
        casts = np.asarray(canvas.casts_shadow)
        mask = receives[ids] & (shifted > ids) & casts[shifted] & ~self.ink
        if not mask.any():
            return
        shadow_group = {
            k: g.add(f"shadow:{g.names[k]}", shade(g.colors[k])) for k in np.unique(group_of[np.unique(ids[mask])])
        }
        table = np.arange(canvas.n_ids)
        for pid in np.unique(ids[mask]):
            table[pid] = canvas.new_id(shadow_group[group_of[pid]], canvas.part_of[pid], casts_shadow=False)
            self.shadow_ids.add(int(table[pid]))
        ids[mask] = table[ids[mask]]


def _stagger(x0: float, y0: float, x1: float, y1: float, period: float) -> np.ndarray:
    """Centres (m, 2) of a staggered dot grid covering [x0, x1] × [y0, y1] (odd columns shifted half a period)."""
    xs = np.arange(x0, x1, period)
    ys = np.arange(y0, y1 + period / 2, period)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # (rows, cols, 2)
    grid[:, 1::2, 1] += period / 2
    return grid.reshape(-1, 2)


def _seams(ids: np.ndarray) -> np.ndarray:
    """Pixels whose right or lower neighbour holds another primitive (one-sided boundary) → (H, W) bool."""
    seam = np.zeros(ids.shape, dtype=bool)
    seam[:, :-1] |= ids[:, :-1] != ids[:, 1:]
    seam[:-1, :] |= ids[:-1, :] != ids[1:, :]
    return seam


def _outline(ids: np.ndarray, width: int) -> np.ndarray:
    """Ink mask (H, W) bool: primitive boundaries thickened to `width` px."""
    seam = _seams(ids)
    if width > 1:
        seam = cv2.dilate(seam.view(np.uint8), np.ones((width, width), np.uint8)).view(bool)
    return seam


def _fill_unlabelled(labels: np.ndarray) -> np.ndarray:
    """Give every 0 pixel of a uint16 label map the label of a neighbouring labelled pixel (repeated dilation)."""
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(labels.shape[0] + labels.shape[1]):
        holes = labels == 0
        if not holes.any():
            return labels
        labels = np.where(holes, cv2.dilate(labels, kernel), labels)
    raise ValueError("label map has no labelled pixel to grow from")


@lru_cache(maxsize=8)
def _pixel_grid(size: int) -> np.ndarray:
    """(size, size, 2) float32 pixel coordinates (x, y): the identity map of cv2.remap."""
    xs, ys = np.meshgrid(np.arange(size, dtype=np.float32), np.arange(size, dtype=np.float32))
    grid = np.stack([xs, ys], axis=-1)
    grid.flags.writeable = False
    return grid


def _upsample(coarse: np.ndarray, size: int) -> np.ndarray:
    """Bilinear upsampling of a small float32 field (c, c) or (c, c, 2) to (size, size[, 2])."""
    return cv2.resize(np.ascontiguousarray(coarse, dtype=np.float32), (size, size), interpolation=cv2.INTER_LINEAR)


def rough_lines(ink: np.ndarray, rng: np.random.Generator, jitter_px: float, gaps: float) -> np.ndarray:
    """Rough line art from an ink mask (H, W) bool: wobbly displaced strokes, varying width and pressure, a fainter
    doubled stroke in places, and small gaps. Returns uint8 (H, W), 255 = paper.

    `jitter_px` is the displacement amplitude in px, `gaps` the fraction of the image where strokes are erased.
    Smooth random fields are drawn on a coarse grid and upsampled, so the cost is a few passes over the image.
    """
    size = ink.shape[0]
    shape5 = (6, 6)  # coarse grid of the smooth fields: about 5 bumps across the image
    displacement = _upsample(rng.standard_normal((*shape5, 2)) * 0.5 * jitter_px, size)  # (H, W, 2)
    displacement += _pixel_grid(size)
    strokes = cv2.remap(ink.astype(np.float32), displacement, None, cv2.INTER_LINEAR)  # (H, W) darkness in [0, 1]
    heavy = _upsample(
        np.clip((rng.standard_normal(shape5) * 0.5 - 0.2) * 3, 0, 1) * (1.0 if size >= 192 else 0.5), size
    )
    thick = cv2.dilate(strokes, np.ones((2, 2), np.uint8))
    thick -= strokes
    thick *= heavy
    strokes += thick  # wider where `heavy` (half-tone widening at small sizes, where a full pixel is a lot)
    strokes *= _upsample(np.clip(0.8 + 0.2 * rng.standard_normal(shape5), 0.55, 1.0), size)  # pencil pressure
    echo_weight = _upsample(np.clip(rng.standard_normal(shape5) - 0.6, 0, 1) * 0.45, size)
    dx, dy = rng.choice([-1, 1], 2) * max(1, round(jitter_px))
    echo = np.zeros_like(strokes)  # the stroke again, shifted by (dx, dy): sketchy doubling where echo_weight > 0
    echo[max(dy, 0) : size + min(dy, 0), max(dx, 0) : size + min(dx, 0)] = strokes[
        max(-dy, 0) : size - max(dy, 0), max(-dx, 0) : size - max(dx, 0)
    ]
    echo *= echo_weight
    np.maximum(strokes, echo, out=strokes)
    if gaps > 0:
        cells = max(4, size // 6)
        coarse = rng.standard_normal((cells, cells))
        threshold = np.quantile(coarse, 1.0 - gaps)
        strokes *= _upsample(np.clip((threshold - coarse) * 3.0, 0, 1), size)
    if size >= 192:  # soften the pencil edge where a pixel is small enough not to blur the stroke away
        strokes = cv2.GaussianBlur(strokes, (3, 3), 0.6)
    return cv2.convertScaleAbs(np.clip(strokes, 0, 1), alpha=-255, beta=255)


def render_illustration(rng: np.random.Generator, cfg: SynthConfig = SynthConfig(),
                        colour_rng: np.random.Generator | None = None) -> Illustration:
    """Draw one illustration and its ground truth with the given generator.

    With `colour_rng`, the same drawing (shapes, regions, parts, groups, archetype, line art, ink colour: everything
    `rng` decides) with every colour decision re-drawn from `colour_rng`: the colour families of hair, eyes and
    clothes (archetype, off-archetype and eye draws included) and every colour inside its family's box. It is
    another valid colouring of the same line drawing, drawn from the generator's own distribution.
    """
    size = cfg.size
    scene = _Scene(rng, cfg, colour_rng)
    scene.background()
    scene.back_hair()
    scene.dress_body()
    scene.face()
    scene.front_hair()
    scene.accessories()
    canvas = scene.canvas
    width = max(1, round(cfg.line_width * size / 128))
    scene.ink = ink = _outline(canvas.ids, width)
    scene.overlays()
    if rng.random() < cfg.shadow_prob:
        scene.shadows()

    ids = canvas.ids
    free = ~(ink | _seams(ids))
    n, comp = cv2.connectedComponents(free.view(np.uint8), connectivity=4, ltype=cv2.CV_32S)
    prim_of = np.zeros(n, dtype=np.int64)
    prim_of[comp.ravel()] = ids.ravel()  # component 0 (ink and seams) gets junk: it is dropped below
    area = np.bincount(comp.ravel(), minlength=n)
    keep = area >= cfg.min_region_area
    keep[0] = False
    ink = ink | (~keep & (area > 0))[comp] & free  # specks too small to colour become ink, as when inking small shapes
    relabel = (np.cumsum(keep) * keep).astype(np.uint16)  # component → 1..K, 0 = to be filled
    regions = _fill_unlabelled(relabel[comp]) - 1  # (H, W) 0..K-1
    region_prim = prim_of[keep]  # (K,)

    group_of = np.asarray(canvas.group_of)
    used, region_group = np.unique(group_of[region_prim], return_inverse=True)
    group_color = np.stack(scene.groups.colors)[used]  # (G, 3)
    color = np.take(group_color[region_group], regions, axis=0)  # (H, W, 3)
    color[ink] = scene.ink_rgb
    parts = np.asarray(canvas.part_of, dtype=np.uint8)[region_prim][regions]
    region_shadow = np.isin(region_prim, list(scene.shadow_ids))
    lines_clean = np.where(ink, 0, 255).astype(np.uint8)
    lines_rough = rough_lines(ink, rng, cfg.rough_jitter * size / 128, cfg.rough_gaps)
    return Illustration(
        color=color,
        regions=regions.astype(np.uint16),
        parts=parts,
        region_group=region_group.astype(np.int32),
        region_shadow=region_shadow,
        group_color=group_color,
        group_names=tuple(scene.groups.names[k] for k in used),
        lines_clean=lines_clean,
        lines_rough=lines_rough,
        archetype=scene.archetype,
        families=dict(scene.families),
    )


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of sample `index` of a data set drawn with `seed` (independent of the data-set size)."""
    return np.random.default_rng([int(seed), int(index)])


def synthesize(n: int, seed: int, cfg: SynthConfig = SynthConfig()) -> dict[str, np.ndarray]:
    """Draw `n` illustrations into the npz layout of the project conventions.

    Keys: color (N, H, W, 3) uint8, regions (N, H, W) uint16, parts (N, H, W) uint8, region_group (N, Kmax) int32
    (-1 padding), region_shadow (N, Kmax) bool, archetype (N,) int16, lines_clean / lines_rough (N, H, W) uint8.
    Sample i is drawn from `sample_rng(seed, i)`, so it does not depend on `n`.
    """
    if n < 1:
        raise ValueError(f"synthesize needs n >= 1, got {n}")
    samples = (render_illustration(sample_rng(seed, i), cfg) for i in range(n))
    return stack_illustrations(samples, n, cfg.size, scalars={"archetype": np.int16})


def region_count_stats(regions: np.ndarray) -> dict[str, float]:
    """Regions per image of contiguous label maps (N, H, W) or one map (H, W): mean, median, max, min, p90."""
    regions = np.asarray(regions)
    if regions.ndim == 2:
        regions = regions[None]
    if regions.ndim != 3 or regions.shape[0] == 0:
        raise ValueError(f"regions must be (N, H, W) or (H, W) with N >= 1, got shape {regions.shape}")
    counts = regions.reshape(len(regions), -1).max(axis=1).astype(np.float64) + 1
    return {
        "mean": float(counts.mean()),
        "median": float(np.median(counts)),
        "max": float(counts.max()),
        "min": float(counts.min()),
        "p90": float(np.percentile(counts, 90)),
    }
