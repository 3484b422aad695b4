"""Colour families and character archetypes: how the drawing makes colours partly predictable (DESIGN §2).

A *family* is a disjoint box in HSV space (hue in degrees, saturation and value in [0, 1]); a colour is drawn
uniformly inside its family's box (the within-family shade/saturation jitter), and `classify_family` maps any colour
back to the family whose box is nearest. An *archetype* ties shapes to families: its hair style decides the hair
family and its outfit cut the clothes families.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Family:
    """A colour family: an HSV box. Hue bounds may exceed 360 to wrap through red."""

    name: str  # human-readable name
    hue: tuple[float, float]  # hue range in degrees (lo <= hi; hi may exceed 360 to wrap)
    sat: tuple[float, float]  # saturation range in [0, 1]
    val: tuple[float, float]  # value (brightness) range in [0, 1]


FAMILIES: tuple[Family, ...] = (
    Family("black", (0, 360), (0.00, 0.30), (0.13, 0.27)),
    Family("white", (0, 360), (0.00, 0.06), (0.92, 0.99)),
    Family("silver", (180, 260), (0.05, 0.16), (0.68, 0.84)),
    Family("grey", (0, 360), (0.00, 0.10), (0.42, 0.58)),
    Family("red", (352, 366), (0.62, 0.85), (0.70, 0.88)),
    Family("orange", (18, 30), (0.70, 0.90), (0.90, 1.00)),
    Family("brown", (18, 34), (0.45, 0.68), (0.36, 0.58)),
    Family("blonde", (44, 54), (0.42, 0.70), (0.92, 1.00)),
    Family("green", (105, 145), (0.40, 0.68), (0.52, 0.78)),
    Family("blue", (198, 214), (0.50, 0.78), (0.80, 0.96)),
    Family("navy", (222, 236), (0.55, 0.80), (0.30, 0.45)),
    Family("purple", (266, 286), (0.35, 0.60), (0.55, 0.78)),
    Family("pink", (322, 342), (0.28, 0.50), (0.92, 1.00)),
)
FAMILY_NAMES: tuple[str, ...] = tuple(f.name for f in FAMILIES)
SKIN = Family("skin", (16, 28), (0.12, 0.30), (0.93, 1.00))  # skin tones: never drawn for anything else


@dataclass(frozen=True)
class Archetype:
    """A character type: its shapes and the colour families those shapes carry."""

    name: str  # short name
    hair_style: str  # shape family of the hair (see synth._HAIR_STYLES)
    outfit: str  # outfit cut (see synth._OUTFITS)
    hair: str  # hair colour family
    top: str  # family of the top (and sleeves)
    bottom: str  # family of the skirt / trousers
    accent: str  # family of collar, ribbons, cuffs, pattern stripes


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype("twin_tails/sailor", "twin_tails", "sailor", hair="pink", top="white", bottom="navy", accent="red"),
    Archetype(
        "long_straight/blazer", "long_straight", "blazer", hair="black", top="red", bottom="grey", accent="white"
    ),
    Archetype("spiky/jacket", "short_spiky", "jacket", hair="orange", top="green", bottom="brown", accent="black"),
    Archetype("bob/sweater", "bob", "sweater", hair="brown", top="blonde", bottom="navy", accent="white"),
    Archetype("ponytail/sporty", "ponytail", "sporty", hair="blonde", top="blue", bottom="white", accent="navy"),
    Archetype("buns/dress", "buns", "dress", hair="blue", top="pink", bottom="pink", accent="white"),
    Archetype("wavy/gothic", "long_wavy", "gothic", hair="silver", top="black", bottom="purple", accent="red"),
    Archetype("braids/overalls", "braids", "overalls", hair="green", top="white", bottom="blue", accent="orange"),
)
ARCHETYPE_NAMES: tuple[str, ...] = tuple(a.name for a in ARCHETYPES)


def family_index(name: str) -> int:
    """Index of a family in FAMILIES by name."""
    try:
        return FAMILY_NAMES.index(name)
    except ValueError:
        raise ValueError(f"unknown colour family {name!r}; expected one of {FAMILY_NAMES}") from None


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    """One HSV colour (hue degrees, s, v in [0, 1]) → RGB uint8 (3,)."""
    return np.round(np.array(colorsys.hsv_to_rgb((h % 360.0) / 360.0, s, v)) * 255).astype(np.uint8)


def sample_colour(rng: np.random.Generator, family: Family) -> np.ndarray:
    """A colour drawn uniformly inside the family's HSV box → RGB uint8 (3,)."""
    return _hsv_to_rgb(rng.uniform(*family.hue), rng.uniform(*family.sat), rng.uniform(*family.val))


def shade(rgb: np.ndarray, darken: float = 0.72, hue_shift: float = 8.0) -> np.ndarray:
    """Cel-shadow tone of a colour: darker, slightly more saturated, hue nudged towards purple/blue."""
    h, s, v = colorsys.rgb_to_hsv(*(np.asarray(rgb, dtype=np.float64) / 255))
    h *= 360.0
    target = 260.0  # shadows drift towards blue-violet, as in cel shading
    delta = ((target - h + 180) % 360) - 180
    return _hsv_to_rgb(h + np.sign(delta) * min(hue_shift, abs(delta)), min(1.0, s * 1.15 + 0.05), v * darken)


def lighten(rgb: np.ndarray, amount: float = 0.45) -> np.ndarray:
    """A lighter tone (hair shine): blend towards white."""
    return np.round(rgb + (255 - rgb.astype(np.float64)) * amount).astype(np.uint8)


def classify_family(rgb: np.ndarray) -> np.ndarray:
    """Family index of each colour (..., 3) uint8: the family whose HSV box is nearest (0 inside the box).

    Distances are taken per axis in units of hue/180°, saturation and value; achromatic families ignore hue.
    """
    colours = np.asarray(rgb, dtype=np.uint8).reshape(-1, 1, 3)
    hsv = cv2.cvtColor(colours.astype(np.float32) / 255, cv2.COLOR_RGB2HSV)[:, 0]  # (n, 3)
    h, s, v = hsv[:, 0:1], hsv[:, 1:2], hsv[:, 2:3]
    lo = np.array([[f.hue[0], f.sat[0], f.val[0]] for f in FAMILIES])  # (F, 3)
    hi = np.array([[f.hue[1], f.sat[1], f.val[1]] for f in FAMILIES])  # (F, 3)
    centre, half = (lo[:, 0] + hi[:, 0]) / 2, (hi[:, 0] - lo[:, 0]) / 2  # (F,)
    hue_gap = np.abs(((h - centre + 180) % 360) - 180) - half  # (n, F) degrees outside the hue range
    hue_gap = np.where(half >= 180, 0.0, np.clip(hue_gap, 0, None) / 180) * np.clip(s / 0.15, 0, 1)
    sat_gap = np.clip(lo[:, 1] - s, 0, None) + np.clip(s - hi[:, 1], 0, None)  # (n, F)
    val_gap = np.clip(lo[:, 2] - v, 0, None) + np.clip(v - hi[:, 2], 0, None)  # (n, F)
    distance = np.sqrt(hue_gap**2 + sat_gap**2 + val_gap**2)
    return distance.argmin(axis=1).reshape(np.shape(rgb)[:-1])
