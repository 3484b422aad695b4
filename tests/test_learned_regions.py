"""Learned (DanbooRegion-style) region extractor: target field, decoding, tiny training, checkpoints."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
import torch

from rasc.training.checkpoint import CheckpointError
from rasc.regions import extract_regions
from rasc.regions.labels import is_contiguous, region_boundaries, relabel_contiguous
from rasc.regions.learned import (
    LearnedRegionExtractor,
    RegionNetConfig,
    load_region_net,
    regions_from_field,
    skeleton_field,
    train_region_net,
    training_set,
)
from rasc.regions.quality import adjusted_rand_index
from rasc.regions.unet import RegionUNet


def boxes_regions(size: int = 32) -> np.ndarray:
    """Four quadrants and an inner square: 5 regions, all wider than the 2-px boundary band."""
    labels = np.zeros((size, size), np.int32)
    half = size // 2
    labels[:half, half:] = 1
    labels[half:, :half] = 2
    labels[half:, half:] = 3
    labels[size // 8 : size // 8 + size // 4, size // 8 : size // 8 + size // 4] = 4
    return labels


def sketch_of(regions: np.ndarray) -> np.ndarray:
    """Black 1-px lines on region borders (one side), white elsewhere: uint8 (H, W)."""
    edges = np.zeros(regions.shape, bool)
    edges[:, 1:] |= regions[:, 1:] != regions[:, :-1]
    edges[1:, :] |= regions[1:, :] != regions[:-1, :]
    return np.where(edges, 0, 255).astype(np.uint8)


def tiny_training_set(n_images: int = 12, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    regions = []
    for _ in range(n_images):
        labels = np.zeros((size, size), np.int32)
        for index in range(1, 4):
            top, left = rng.integers(0, size - 10, size=2)
            height, width = rng.integers(6, 16, size=2)
            labels[top : top + height, left : left + width] = index
        n, pieces = cv2.connectedComponents(np.ones((size, size), np.uint8), connectivity=4)
        regions.append(relabel_contiguous(labels * size * size + pieces))
    regions = np.stack(regions)
    sketches = np.stack([sketch_of(r) for r in regions])
    return sketches, regions


def test_field_is_zero_on_boundaries_and_one_on_skeletons() -> None:
    regions = boxes_regions(32)
    field = skeleton_field(regions)
    assert field.dtype == np.float32 and field.shape == regions.shape
    assert field.min() >= 0.0 and field.max() <= 1.0
    boundary = region_boundaries(regions)
    assert np.all(field[boundary] == 0.0)
    ones = field == 1.0
    assert ones.any()
    assert not (ones & boundary).any()
    # Every region wider than the boundary band has skeleton pixels (field 1) of its own.
    assert set(np.unique(regions[ones]).tolist()) == set(range(5))
    # Between boundary and skeleton the field rises: the centre of a quadrant is higher than a pixel near its edge.
    assert field[24, 24] > field[17, 24] > 0.0


def test_field_of_single_region_uses_the_frame_as_boundary() -> None:
    field = skeleton_field(np.zeros((16, 24), np.int32))
    assert field.max() == 1.0
    assert field[8, 12] > field[0, 12]


def test_decoding_the_true_field_recovers_the_regions() -> None:
    regions = boxes_regions(48)
    labels = regions_from_field(skeleton_field(regions))
    assert labels.dtype == np.uint16 and is_contiguous(labels)
    assert labels.max() + 1 == 5
    assert adjusted_rand_index(labels, regions) > 0.95
    assert regions_from_field(np.zeros((8, 8), np.float32)).max() == 0  # no marker: one region


def test_unet_shapes_and_range() -> None:
    net = RegionUNet(base_channels=4, depth=2)
    with torch.no_grad():
        field = net(torch.zeros(2, 1, 16, 24))
    assert field.shape == (2, 1, 16, 24)
    assert float(field.min()) >= 0.0 and float(field.max()) <= 1.0
    with pytest.raises(ValueError, match="multiples"):
        net(torch.zeros(1, 1, 10, 16))


def test_tiny_training_and_checkpoint_round_trip(tmp_path) -> None:
    torch.set_num_threads(1)
    sketches, regions = tiny_training_set()
    cfg = RegionNetConfig(base_channels=4, depth=2, steps=6, batch_size=4, crop_size=32, log_every=2)
    path = tmp_path / "nets" / "region_net.pt"
    logged = []

    class RecordingTracker:
        def log_params(self, params):
            logged.append(("params", params))

        def log_metrics(self, metrics, step):
            logged.append(("metrics", step, metrics))

    stats = train_region_net(sketches, regions, cfg, path, tracker=RecordingTracker(), progress=False)
    assert path.is_file()
    assert not list(path.parent.glob("*.tmp"))  # the atomic write left no temporary file
    assert stats["steps"] == 6 and np.isfinite(stats["final_loss"])
    assert [entry[1] for entry in logged if entry[0] == "metrics"] == [2, 4, 6]

    raw = torch.load(path, weights_only=True)  # plain dict of tensors and primitives
    assert raw["format_version"] == 1 and raw["step"] == 6 and raw["config"] == dataclasses.asdict(cfg)
    net, loaded_cfg, step = load_region_net(path)
    assert loaded_cfg == cfg and step == 6 and not net.training
    extractor = LearnedRegionExtractor.load(path)
    labels = extractor(sketches[0])
    assert labels.dtype == np.uint16 and labels.shape == sketches[0].shape and is_contiguous(labels)
    batch = extractor.batch(sketches[:3], batch_size=2)
    assert np.array_equal(batch[0], labels)
    # Sizes that are not multiples of 2**depth are padded and cropped back.
    odd = np.full((30, 45), 255, np.uint8)
    assert extractor(odd).shape == (30, 45)
    assert np.array_equal(extract_regions(sketches[0], "learned", checkpoint=path), labels)

    # Training is seeded: a second run gives the same weights.
    second = tmp_path / "second.pt"
    train_region_net(sketches, regions, cfg, second, progress=False)
    again = torch.load(second, weights_only=True)["state_dict"]
    assert all(torch.equal(again[name], raw["state_dict"][name]) for name in again)


def test_override_inference_settings_at_load(tmp_path) -> None:
    sketches, regions = tiny_training_set(n_images=2)
    cfg = RegionNetConfig(base_channels=4, depth=2, steps=1, batch_size=2, crop_size=32)
    path = tmp_path / "net.pt"
    train_region_net(sketches, regions, cfg, path, progress=False)
    extractor = LearnedRegionExtractor.load(path, marker_threshold=0.7)
    assert extractor.cfg.marker_threshold == 0.7
    with pytest.raises(ValueError, match="overridden"):
        LearnedRegionExtractor.load(path, steps=3)


def test_corrupt_and_foreign_checkpoints_raise_clear_errors(tmp_path) -> None:
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"this is not a checkpoint")
    with pytest.raises(CheckpointError, match="not a PyTorch .*file"):
        load_region_net(corrupt)
    truncated = tmp_path / "truncated.pt"
    sketches, regions = tiny_training_set(n_images=2)
    good = tmp_path / "good.pt"
    train_region_net(
        sketches, regions, RegionNetConfig(base_channels=4, depth=2, steps=1, batch_size=2, crop_size=32), good,
        progress=False,
    )
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="corrupt or unreadable"):
        load_region_net(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a region-net checkpoint"):
        load_region_net(foreign)
    future = tmp_path / "future.pt"
    checkpoint = torch.load(good, weights_only=True)
    torch.save({**checkpoint, "format_version": 99}, future)
    with pytest.raises(CheckpointError, match="format version"):
        load_region_net(future)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_region_net(tmp_path / "missing.pt")


def test_invalid_training_input_raises_value_error(tmp_path) -> None:
    sketches, regions = tiny_training_set(n_images=2)
    cfg = RegionNetConfig(base_channels=4, depth=2, steps=1, batch_size=2, crop_size=32)
    with pytest.raises(ValueError, match="uint8"):
        train_region_net(sketches.astype(np.float32), regions, cfg, tmp_path / "x.pt", progress=False)
    with pytest.raises(ValueError, match="differs"):
        train_region_net(sketches, regions[:, :16], cfg, tmp_path / "x.pt", progress=False)
    with pytest.raises(ValueError, match="crop_size"):
        RegionNetConfig(depth=3, crop_size=36)


def test_training_set_holds_only_the_configured_sketch_styles() -> None:
    """The default trains on XDoG only: the clean (B) and rough (C) line art never enter unless asked for."""
    sketches, regions = tiny_training_set(n_images=3)
    illustrations = {"regions": regions, "lines_clean": 255 - sketches // 2, "lines_rough": sketches // 3}
    xdog = sketches.copy()
    only_xdog, only_xdog_regions = training_set(illustrations, xdog, ["xdog"])
    assert np.array_equal(only_xdog, xdog) and np.array_equal(only_xdog_regions, regions)
    every, every_regions = training_set(illustrations, xdog, ("xdog", "clean", "rough"))
    assert np.array_equal(every, np.concatenate([xdog, illustrations["lines_clean"], illustrations["lines_rough"]]))
    assert np.array_equal(every_regions, np.concatenate([regions] * 3))
    rough_only, _ = training_set(illustrations, xdog, ["rough"])
    assert np.array_equal(rough_only, illustrations["lines_rough"])
    for bad in ([], ["xdog", "xdog"], ["pencil"]):
        with pytest.raises(ValueError, match="train_styles"):
            training_set(illustrations, xdog, bad)
    with pytest.raises(ValueError, match="lines_clean"):
        training_set({"regions": regions}, xdog, ["clean"])
