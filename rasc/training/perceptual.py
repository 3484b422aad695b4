"""VGG-19 feature extractor for the perceptual loss (paper eq. 7, DESIGN §5).

The paper compares VGG-19 activations at relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1. Weights are loaded the
real way: a local file given in the config, else torchvision's ImageNet weights (from the torch hub cache, or
downloaded where the internet is reachable). When none can be had, the network falls back to a seeded random
initialisation and says so loudly; :func:`build_vgg_features` returns which backbone was used so that it is
recorded in params and tags (``"vgg19-imagenet"``, ``"vgg19-file-<sha256 prefix>"`` or ``"vgg19-random-seed<n>"``).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from rasc.utils import file_sha256

log = logging.getLogger(__name__)

# Index of each named ReLU in torchvision's ``vgg19().features``.
VGG19_RELU_INDEX = {
    "relu1_1": 1,
    "relu1_2": 3,
    "relu2_1": 6,
    "relu2_2": 8,
    "relu3_1": 11,
    "relu3_2": 13,
    "relu3_3": 15,
    "relu3_4": 17,
    "relu4_1": 20,
    "relu4_2": 22,
    "relu4_3": 24,
    "relu4_4": 26,
    "relu5_1": 29,
}
PAPER_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# torchvision names its weight file after the first hex digits of the file's SHA-256.
IMAGENET_SHA256_PREFIX = "dcbb9e9d"


@dataclass(frozen=True)
class PerceptualConfig:
    """Which VGG-19 layers feed the perceptual loss and where the weights come from."""

    layers: tuple[str, ...] = PAPER_LAYERS  # compared activations, in network order; e.g. up to relu3_1 on CPU
    weights_path: str | None = None  # local VGG-19 state_dict (torchvision layout); None = torchvision's ImageNet
    download: bool = True  # let torchvision download the ImageNet weights when they are not cached
    random_seed: int = 0  # seed of the fallback random initialisation when no weights can be had

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError("perceptual layers must name at least one VGG-19 layer")
        unknown = [name for name in self.layers if name not in VGG19_RELU_INDEX]
        if unknown:
            raise ValueError(f"unknown VGG-19 layers {unknown}; choose from {sorted(VGG19_RELU_INDEX)}")
        indices = [VGG19_RELU_INDEX[name] for name in self.layers]
        if indices != sorted(set(indices)):
            raise ValueError(f"perceptual layers must be distinct and in network order, got {list(self.layers)}")


class VGGFeatures(nn.Module):
    """Frozen VGG-19 trunk that returns the activations of the chosen layers for images in [-1, 1]."""

    def __init__(self, trunk: nn.Sequential, layers: tuple[str, ...]) -> None:
        super().__init__()
        self.layers = tuple(layers)
        last = VGG19_RELU_INDEX[self.layers[-1]]
        self.trunk = trunk[: last + 1]
        self.taps = {VGG19_RELU_INDEX[name]: name for name in self.layers}
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        for module in self.trunk.modules():
            if isinstance(module, nn.ReLU):
                module.inplace = False  # keep tapped activations intact
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGGFeatures:
        """Stay in eval mode whatever the caller asks (the extractor is frozen)."""
        return super().train(False)

    def forward(self, image: Tensor) -> list[Tensor]:
        """image (B, 3, H, W) in [-1, 1] → one activation (B, C_i, H_i, W_i) per configured layer."""
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"VGG features expect (B, 3, H, W) images, got shape {tuple(image.shape)}")
        x = ((image + 1.0) * 0.5 - self.mean) / self.std  # (B, 3, H, W), ImageNet-normalised
        features = []
        for index, layer in enumerate(self.trunk):
            x = layer(x)
            if index in self.taps:
                features.append(x)
        return features


def vgg19_trunk() -> nn.Sequential:
    """torchvision's VGG-19 convolutional trunk (``vgg19().features``) without its 100M-parameter classifier."""
    from torchvision.models.vgg import cfgs, make_layers

    return make_layers(cfgs["E"], batch_norm=False)


def random_vgg19_trunk(seed: int) -> nn.Sequential:
    """VGG-19 trunk with torchvision's initialisation scheme (Kaiming normal, fan-out), from a seeded generator."""
    trunk = vgg19_trunk()
    generator = torch.Generator().manual_seed(seed)
    for module in trunk:
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=generator)
            nn.init.zeros_(module.bias)
    return trunk


def load_vgg19_trunk(path: Path) -> nn.Sequential:
    """VGG-19 trunk from a local state_dict: torchvision's full ``vgg19`` layout or the trunk alone."""
    if not path.is_file():
        raise FileNotFoundError(f"VGG-19 weights file {path} does not exist")
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - unpickling errors come in several types
        raise ValueError(f"{path}: not a readable weights-only state_dict ({type(error).__name__})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a VGG-19 state_dict, got {type(state).__name__}")
    if any(key.startswith("features.") for key in state):
        state = {key[len("features.") :]: value for key, value in state.items() if key.startswith("features.")}
    trunk = vgg19_trunk()
    try:
        trunk.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"{path}: not a VGG-19 state_dict ({error})") from None
    return trunk


def build_vgg_features(cfg: PerceptualConfig = PerceptualConfig()) -> tuple[VGGFeatures, str]:
    """Build the frozen feature extractor; returns it with the name of the backbone actually used.

    Order: ``cfg.weights_path`` (an error if it is given but unusable), torchvision's ImageNet weights (cached or
    downloaded), then a seeded random initialisation with a loud warning.
    """
    if cfg.weights_path is not None:
        path = Path(cfg.weights_path)
        trunk = load_vgg19_trunk(path)
        digest = file_sha256(path)
        is_imagenet = digest.startswith(IMAGENET_SHA256_PREFIX)
        backbone = "vgg19-imagenet" if is_imagenet else f"vgg19-file-{digest[:12]}"
        log.info("perceptual network: VGG-19 weights from %s (%s)", path, backbone)
        return VGGFeatures(trunk, cfg.layers), backbone

    failure = "ImageNet weights not in the torch hub cache and download disabled"
    try:
        cached = _torchvision_imagenet_vgg19_file(allow_download=cfg.download)
        if cached is not None:
            log.info("perceptual network: torchvision's ImageNet VGG-19 from %s", cached)
            return VGGFeatures(load_vgg19_trunk(cached), cfg.layers), "vgg19-imagenet"
    except Exception as error:  # noqa: BLE001 - any download or file error leads to the documented fallback
        failure = f"{type(error).__name__}: {error}"
    message = (
        "NO PRETRAINED VGG-19 WEIGHTS: the perceptual loss uses a RANDOMLY INITIALISED VGG-19 "
        f"(seed {cfg.random_seed}); {failure}. Numbers are not comparable to the paper's. Give a local "
        "weights file (perceptual weights_path) or put vgg19-dcbb9e9d.pth in the torch hub cache to fix this."
    )
    warnings.warn(message, RuntimeWarning, stacklevel=2)
    log.warning(message)
    return VGGFeatures(random_vgg19_trunk(cfg.random_seed), cfg.layers), f"vgg19-random-seed{cfg.random_seed}"


def _torchvision_imagenet_vgg19_file(allow_download: bool) -> Path | None:
    """torchvision's ImageNet VGG-19 weights file in the torch hub cache, downloaded there first if allowed (its
    hash checked); None when it is not cached and downloads are off. Only the file is fetched: the trunk is built
    from it, never torchvision's whole VGG-19 (its 120M-parameter classifier took 2 s to initialise per job)."""
    from torchvision.models import VGG19_Weights

    url = VGG19_Weights.IMAGENET1K_V1.url
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
    if cached.is_file():
        return cached
    if not allow_download:
        return None
    cached.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(cached), hash_prefix=IMAGENET_SHA256_PREFIX, progress=False)
    return cached
