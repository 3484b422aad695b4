"""Licence notices that figures and reports showing third-party data must carry (OpenMoji: CC BY-SA 4.0).

Kept free of heavy imports: the workflow reads it while parsing the Snakefile.
"""

from __future__ import annotations

OPENMOJI_ATTRIBUTION = "All emojis designed by OpenMoji – the open-source emoji and icon project. License: CC BY-SA 4.0"
OPENMOJI_LICENSE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
OPENMOJI_SOURCE_URL = "https://openmoji.org"
OPENMOJI_NOTICE = (
    f"{OPENMOJI_ATTRIBUTION} ({OPENMOJI_LICENSE_URL}), source: {OPENMOJI_SOURCE_URL}. Images modified (layers "
    f"rendered at the working size, regions and sketches derived, colourings by models trained on them). "
    f"This figure is licensed CC BY-SA 4.0."
)


def figure_footnote(data_source: str) -> str:
    """The notice a figure showing images of ``data_source`` must carry; "" when none is needed."""
    return OPENMOJI_NOTICE if data_source == "openmoji" else ""
