"""Snakemake adapter: multi-colourisation and latent interpolation of one sketch (paper Fig. 8)."""

from rasc.training.checkpoint import load_generator
from rasc.data.prepare import load_npz
from rasc.figures import multicolor_figure
from rasc.logs import script_logging
from rasc.models.inference import (colorize, interpolate_w, labels_to_tensor, prior_in_use, rgb_to_uint8, sample_w,
                                   sketch_to_tensor)

N_SAMPLES, N_STEPS, SEED = 6, 6, 0

with script_logging(snakemake.log[0]) as log:
    generator, _ = load_generator(snakemake.input.generator)
    sketches = load_npz(snakemake.input.sketches)["sketch"][:1]
    sketch = sketch_to_tensor(sketches)  # (1, 1, H, W)
    labels = labels_to_tensor(load_npz(snakemake.input.regions)["labels"][:1])  # (1, H, W)
    prior = snakemake.params.style_prior  # random styles as in the evaluation's diversity samples
    used = prior_in_use(generator, prior)  # "standard" for a model trained before rasc fitted priors
    log.info("random styles from the %s prior", used)
    samples = colorize(generator, sketch, labels, seed=SEED, n_samples=N_SAMPLES, prior=prior)[0]  # (S, 3, H, W)
    noise0, noise1 = sample_w(2, generator.cfg.w_dim, seed=SEED + 1)  # two draws ε, interpolated, then mapped to w
    path = colorize(generator, sketch, labels, noise=interpolate_w(noise0, noise1, N_STEPS), prior=prior)[0]
    multicolor_figure(sketches[0], rgb_to_uint8(samples), rgb_to_uint8(path), snakemake.output.figure,
                      footnote=snakemake.params.footnote, prior=used)
