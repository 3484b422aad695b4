"""FID (rasc.metrics.fid): weight loading order, the calibrated random fallback, and the distance itself.

Kept fast with pytorch-fid's first feature block (dims 64) and a dozen 32² cartoons per set.
"""

from __future__ import annotations

import urllib.error
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from pytorch_fid.fid_score import calculate_frechet_distance

from rasc.metrics import fid as fid_module
from rasc.metrics.fid import (FIDBackbone, FIDConfig, FIDFallbackWarning, FIDFeatures, calibration_sample, fid,
                              fid_between, fid_floor, floor_record, frechet_distance, random_inception_state_dict)

DIMS = 64


def cartoons(n: int, seed: int, size: int = 32) -> np.ndarray:
    """Flat-colour discs with black outlines on a light background: uint8 (n, size, size, 3)."""
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 3), np.uint8)
    for index in range(n):
        image = np.full((size, size, 3), rng.integers(150, 256, 3), np.uint8)
        for _ in range(3):
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            centre = tuple(int(v) for v in rng.integers(4, size - 4, 2))
            radius = int(rng.integers(3, size // 3))
            cv2.circle(image, centre, radius, colour, -1)
            cv2.circle(image, centre, radius, (0, 0, 0), 1)
        images[index] = image
    return images


def colour_cast(images: np.ndarray, amount: float) -> np.ndarray:
    """Shift every colour by amount * (+1, 0, -1) in [0, 1] RGB units (a warm cast)."""
    shifted = images.astype(np.float32) / 255 + amount * np.array([1.0, 0.0, -1.0], np.float32)
    return (np.clip(shifted, 0, 1) * 255).round().astype(np.uint8)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No pytorch-fid weights in the hub cache, and any download attempt fails as it does without internet."""
    monkeypatch.setattr(fid_module, "_hub_weights_file", lambda: tmp_path / "hub" / "pt_inception.pth")

    def no_internet(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(fid_module.pytorch_fid_inception, "load_state_dict_from_url", no_internet)


@pytest.fixture(scope="module")
def backbone() -> FIDBackbone:
    network = FIDBackbone.random(0, dims=DIMS, batch_size=16)
    network.calibrate(cartoons(16, seed=100))
    return network


def test_fallback_is_random_named_and_loud(offline: None) -> None:
    with pytest.warns(FIDFallbackWarning, match="RANDOMLY INITIALISED"):
        network = FIDBackbone.load(seed=3, dims=DIMS, calibration_images=cartoons(4, seed=1))
    assert network.is_random and network.name == "inception-random-seed3-d64"
    assert "random" in network.describe()["fid_backbone"]
    with pytest.warns(FIDFallbackWarning), pytest.raises(ValueError, match="calibration_images"):
        FIDBackbone.load(seed=3, dims=DIMS, allow_download=False)  # uncalibrated would give FID 0 everywhere


def test_calibration_changes_batch_norm_stats() -> None:
    network = FIDBackbone.random(0, dims=DIMS)
    batch_norms = fid_module._batch_norms(network.network)
    before = [bn.running_var.clone() for bn in batch_norms]
    images = cartoons(8, seed=2)
    uncalibrated = np.abs(network.activations(images)).mean()
    network.calibrate(images)
    assert all(not torch.allclose(old, bn.running_var) for old, bn in zip(before, batch_norms))
    assert all(bn.momentum == 0.1 and not bn.training for bn in batch_norms)  # momentum restored, eval mode
    assert np.abs(network.activations(images)).mean() > 10 * uncalibrated


def test_fid_is_zero_on_itself_and_grows_with_a_colour_shift(backbone: FIDBackbone) -> None:
    images = cartoons(12, seed=2)
    reference = backbone.activations(images)
    assert reference.shape == (12, DIMS)
    distances = [frechet_distance(reference, backbone.activations(colour_cast(images, amount)))
                 for amount in (0.0, 0.1, 0.3)]
    assert distances[0] < 1e-6
    assert distances[0] < distances[1] < distances[2]
    assert distances[2] > 1.0  # calibrated: ~10; with the batch norms left at 0/1 it is ~0.01
    assert fid(backbone, images, images) < 1e-6
    assert fid_floor(backbone, images, cartoons(12, seed=3)) > distances[0]


def test_repeated_images_go_through_the_network_once(backbone: FIDBackbone, monkeypatch) -> None:
    """A flat-colour reference repeats one image: each distinct image reaches the network once, and every copy gets
    the features that image has in a set without repeats."""
    images = cartoons(5, seed=4)
    plain = backbone.activations(images)
    repeated = images[[0, 1, 0, 2, 2, 2, 3, 4, 1]]
    seen = []
    network = backbone.network
    monkeypatch.setattr(backbone, "network", lambda batch: seen.append(len(batch)) or network(batch))
    features = backbone.activations(repeated)
    assert sum(seen) == 5
    np.testing.assert_allclose(features, plain[[0, 1, 0, 2, 2, 2, 3, 4, 1]], rtol=1e-5, atol=1e-5)
    assert np.array_equal(features[0], features[2]) and np.array_equal(features[3], features[5])


def test_floor_record_is_taken_at_the_evaluated_sample_size(backbone: FIDBackbone) -> None:
    training, reference = cartoons(10, seed=4), backbone.features(cartoons(8, seed=5))
    record = floor_record(backbone, training, reference, 4)
    assert record["images"] == 4 and record["fid_backbone"] == backbone.name
    assert record["fid_floor"] == pytest.approx(fid_between(backbone.features(training[-4:]), reference))
    assert floor_record(backbone, training, reference, 25)["images"] == 10  # all training images when fewer


def test_local_weights_file_is_loaded_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    state = random_inception_state_dict(seed=7)
    path = tmp_path / "my_inception.pth"
    torch.save(state, path)

    def must_not_be_called(*args: object, **kwargs: object) -> None:
        raise AssertionError("the hub was consulted although a local weights file was given")

    monkeypatch.setattr(fid_module.pytorch_fid_inception, "load_state_dict_from_url", must_not_be_called)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FIDFallbackWarning)
        network = FIDBackbone.load(weights_path=path, dims=DIMS)
    assert not network.is_random and network.name.startswith("inception-local-") and network.name.endswith("-d64")
    assert "my_inception.pth" in network.source
    first_conv = network.network.blocks[0][0].conv.weight
    assert torch.equal(first_conv, state["Conv2d_1a_3x3.conv.weight"])
    # the published file is recognised by its SHA-256 and gets the comparable name
    monkeypatch.setattr(fid_module, "FID_WEIGHTS_SHA256_PREFIX", fid_module.file_sha256(path)[:8])
    assert FIDBackbone.load(weights_path=path, dims=DIMS).name == "inception-fid-d64"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FIDBackbone.load(weights_path=tmp_path / "missing.pth")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "wrong.pth")
    with pytest.raises(ValueError, match="not a pytorch-fid Inception"):
        FIDBackbone.load(weights_path=tmp_path / "wrong.pth", dims=DIMS)


def test_hub_cache_is_used_before_the_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cached = tmp_path / "checkpoints" / "pt_inception-2015-12-05-6726825d.pth"
    cached.parent.mkdir()
    torch.save(random_inception_state_dict(seed=8), cached)
    monkeypatch.setattr(fid_module, "_hub_weights_file", lambda: cached)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FIDFallbackWarning)
        network = FIDBackbone.load(dims=DIMS, allow_download=False)
    assert network.weights_file == cached and not network.is_random


def test_calibration_is_cached_and_restored(offline: None, tmp_path: Path) -> None:
    calibration, probe = cartoons(6, seed=4), cartoons(4, seed=5)
    cache = tmp_path / "fid" / "calibration.pt"
    with pytest.warns(FIDFallbackWarning):
        first = FIDBackbone.load(seed=0, dims=DIMS, calibration_images=calibration, calibration_cache=cache)
    assert cache.is_file() and cache.stat().st_size < 1_000_000  # batch-norm buffers only
    with pytest.warns(FIDFallbackWarning):
        second = FIDBackbone.load(seed=0, dims=DIMS, calibration_cache=cache)  # no images needed any more
    restored = FIDBackbone.from_file(cache)
    expected = first.activations(probe)
    np.testing.assert_array_equal(second.activations(probe), expected)
    np.testing.assert_array_equal(restored.activations(probe), expected)
    assert restored.identity == first.identity and restored.calibration_size == 6
    other = FIDBackbone.random(1, dims=DIMS)
    with pytest.raises(ValueError, match="other weights"):
        other.load_calibration(cache)


def test_weights_backbone_round_trips_through_save(tmp_path: Path) -> None:
    weights = tmp_path / "weights.pth"
    torch.save(random_inception_state_dict(seed=9), weights)
    network = FIDBackbone.load(weights_path=weights, dims=DIMS)
    network.save(tmp_path / "backbone.pt")
    restored = FIDBackbone.from_file(tmp_path / "backbone.pt")
    assert restored.name == network.name and restored.weights_file == weights
    with pytest.raises(ValueError, match="no calibration"):
        network.save_calibrated(tmp_path / "calibration.pt")


def test_reduced_distance_equals_pytorch_fid_on_full_covariances() -> None:
    rng = np.random.default_rng(0)
    scale = rng.uniform(0.1, 3.0, size=256)
    a = rng.normal(size=(20, 256)) * scale
    b = rng.normal(size=(30, 256)) * scale + 0.3
    full = calculate_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert frechet_distance(a, b) == pytest.approx(full, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_pool3_with_fewer_images_than_dimensions_is_finite() -> None:
    rng = np.random.default_rng(1)
    a = np.abs(rng.normal(size=(40, 2048))).astype(np.float32)  # (N << 2048): singular covariances
    b = a + rng.normal(0, 0.2, size=a.shape).astype(np.float32)
    value = frechet_distance(a, b)
    assert np.isfinite(value) and 0 < value < 1e4


def test_features_refuse_to_mix_backbones(backbone: FIDBackbone, tmp_path: Path) -> None:
    images = cartoons(4, seed=6)
    features = backbone.features(images)
    features.save(tmp_path / "reference.npz")
    loaded = FIDFeatures.load(tmp_path / "reference.npz")
    assert loaded.backbone_identity == backbone.identity and "@calib-" in loaded.backbone_identity
    assert fid_between(loaded, features) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="not comparable"):
        fid_between(loaded, FIDFeatures("inception-fid", features.activations))


def test_bad_inputs_are_rejected(backbone: FIDBackbone) -> None:
    with pytest.raises(ValueError, match="uint8"):
        backbone.activations(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(np.zeros((1, 4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="dims"):
        FIDConfig(dims=100)
    chosen = calibration_sample(cartoons(10, seed=0), size=4, seed=0)
    assert chosen.shape == (4, 32, 32, 3)


def test_frechet_distance_survives_a_scipy_without_sqrtm_disp(monkeypatch):
    """SciPy 1.18 removed sqrtm's `disp`, which pytorch-fid 0.3.0 passes (seen on the lent GPU machine)."""
    import types

    import pytorch_fid.fid_score
    import scipy.linalg

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 8)), rng.normal(0.5, 1.2, size=(30, 8))
    expected = fid_module.frechet_distance(a, b)

    def sqrtm_without_disp(matrix):
        return scipy.linalg.sqrtm(matrix)

    monkeypatch.setattr(pytorch_fid.fid_score, "linalg", types.SimpleNamespace(sqrtm=sqrtm_without_disp))
    with pytest.raises(TypeError, match="disp"):
        calculate_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert fid_module.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert expected > 0.5
