"""rasc — a reproducible implementation of Region-Assisted Sketch Colorization (RASC).

The package is importable without heavy dependencies; submodules import torch, OpenCV and MLflow lazily.
"""

__version__ = "0.1.0"
