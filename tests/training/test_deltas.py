"""Reader weights carried as int8 differences: rebuilt to within fp16's own rounding."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from ragnews import ReaderError
from ragnews.reading.reader import CALIBRATION_FILE, Reader
from tests.conftest import ROOT
from training import deltas
from training.averaging import WEIGHTS_FILE
from training.deltas import pack, unpack

SHIPPED = ROOT / "ragnews" / "data" / "reader"


@pytest.fixture(scope="module")
def shipped() -> dict[str, torch.Tensor]:
    return load_file(str(SHIPPED / WEIGHTS_FILE))


def fine_tuned(base: dict[str, torch.Tensor], size: float) -> dict[str, torch.Tensor]:
    """The base moved as a fine-tuning moves it: a small step of its own scale per weight."""
    torch.manual_seed(0)
    return {k: v.float() + size * torch.randn(v.shape) * v.float().std() for k, v in base.items()}


def test_the_shipped_reader_moved_by_a_fine_tuning_comes_back_finer_than_fp16(
    shipped: dict[str, torch.Tensor],
) -> None:
    weights = fine_tuned(shipped, 0.01)
    delta = pack(weights, shipped)
    assert {t.dtype for k, t in delta.items() if k.endswith(".q")} == {torch.int8}
    rebuilt = unpack(delta, shipped)
    for name, tensor in weights.items():
        error = (rebuilt[name] - tensor).abs().max()
        rounding = (tensor.half().float() - tensor).abs().max()
        assert error <= rounding, name
    packed = sum(t.numel() * t.element_size() for t in delta.values())
    halves = sum(t.numel() * 2 for t in shipped.values())
    assert packed < 0.51 * halves


def test_weights_equal_to_the_base_come_back_exactly(shipped: dict[str, torch.Tensor]) -> None:
    rebuilt = unpack(pack(shipped, shipped), shipped)
    assert all(torch.equal(rebuilt[k], v.float()) for k, v in shipped.items())


def test_a_difference_against_another_base_is_refused(shipped: dict[str, torch.Tensor]) -> None:
    some = dict(list(shipped.items())[:3])
    with pytest.raises(ReaderError, match="different tensors"):
        pack(shipped, some)
    with pytest.raises(ReaderError, match="not packed against this base"):
        unpack(pack(some, some), shipped)


def test_pack_and_unpack_make_a_reader_folder(
    shipped: dict[str, torch.Tensor], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    save_file(fine_tuned(shipped, 0.01), str(run / WEIGHTS_FILE))
    delta, out = tmp_path / "delta.safetensors", tmp_path / "reader"
    for argv in (["pack", run, SHIPPED, delta], ["unpack", delta, SHIPPED, out]):
        monkeypatch.setattr(sys, "argv", ["deltas", *map(str, argv)])
        deltas.main()
    assert delta.stat().st_size < 0.51 * (SHIPPED / WEIGHTS_FILE).stat().st_size
    # the base's config and tokenizer come along, its calibration (of other weights) does not
    assert not (out / CALIBRATION_FILE).exists()
    rebuilt = load_file(str(out / WEIGHTS_FILE))
    expected = load_file(str(run / WEIGHTS_FILE))
    for name, tensor in expected.items():  # the difference's error, then fp16's rounding
        error = (rebuilt[name].float() - tensor).abs().max()
        assert error <= 2 * (tensor.half().float() - tensor).abs().max(), name
    assert Reader.load(out).read("Who spoke?", ["Martin Indyk spoke."]).spans
