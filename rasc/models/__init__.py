"""RASC networks: generator (encoder, latent, Region-based Modulation decoder), discriminator, inference helpers."""

from rasc.models.discriminator import Discriminator, DiscriminatorConfig
from rasc.models.generator import Generator, GeneratorConfig, GeneratorOutput
from rasc.models.region_formulation import RegionFormulation

__all__ = ["Discriminator", "DiscriminatorConfig", "Generator", "GeneratorConfig", "GeneratorOutput",
           "RegionFormulation"]
