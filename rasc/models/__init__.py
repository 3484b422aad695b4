"""RASC networks: generator (encoder, latent, Region-based Modulation decoder), discriminator, inference helpers,
and the pix2pix U-Net baseline."""

from torch import nn

from rasc.models.discriminator import Discriminator, DiscriminatorConfig, PatchDiscriminator, build_discriminator
from rasc.models.generator import Generator, GeneratorConfig, GeneratorOutput
from rasc.models.region_formulation import RegionFormulation
from rasc.models.unet_baseline import UNetGenerator


def build_generator(cfg: GeneratorConfig) -> nn.Module:
    """The generator a config describes: the RASC generator, or the U-Net baseline (``architecture="unet"``)."""
    return UNetGenerator(cfg) if cfg.architecture == "unet" else Generator(cfg)


__all__ = ["Discriminator", "DiscriminatorConfig", "PatchDiscriminator", "build_discriminator",
           "Generator", "GeneratorConfig", "GeneratorOutput",
           "RegionFormulation", "UNetGenerator", "build_generator"]
