"""Averaging readers' weights: the mean is exact, weighted, and refuses readers that differ."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForQuestionAnswering

from ragnews import ReaderError
from ragnews.reading.reader import CALIBRATION_FILE, Reader
from tests.conftest import save_tiny_reader
from training import averaging
from training.averaging import WEIGHTS_FILE, average, reader_share


@pytest.fixture(scope="module")
def readers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny reader and a copy of it with every weight tripled."""
    first = save_tiny_reader(tmp_path_factory.mktemp("first"))
    second = tmp_path_factory.mktemp("second")
    tripled = {k: v * 3 for k, v in load_file(str(first / WEIGHTS_FILE)).items()}
    save_file(tripled, str(second / WEIGHTS_FILE), metadata={"format": "pt"})
    return first, second


def test_the_weighted_mean_of_each_tensor(readers: tuple[Path, Path]) -> None:
    first, second = readers
    original = load_file(str(first / WEIGHTS_FILE))
    halves = average([(first, 1.0), (second, 1.0)])
    quarters = average([(first, 3.0), (second, 1.0)])
    assert halves.keys() == original.keys()
    for name, tensor in original.items():
        assert torch.allclose(halves[name], 2 * tensor.float())
        assert torch.allclose(quarters[name], 1.5 * tensor.float())


def test_the_averaged_folder_loads_as_a_reader(
    readers: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = readers
    out = tmp_path / "soup"
    monkeypatch.setattr(sys, "argv", ["averaging", f"{first}:1", str(second), "--out", str(out)])
    averaging.main()
    model = AutoModelForQuestionAnswering.from_pretrained(str(out))
    head = load_file(str(first / WEIGHTS_FILE))["qa_outputs.weight"]
    assert torch.allclose(model.qa_outputs.weight, 2 * head.float())
    # a whole reader: the first one's tokenizer comes along, its calibration (fitted on other
    # weights) does not
    assert (first / CALIBRATION_FILE).is_file() and not (out / CALIBRATION_FILE).exists()
    reader = Reader.load(out)
    assert len(reader.tokenizer) == Reader.load(first).tokenizer.vocab_size
    assert reader.read("Who spoke?", ["Martin Indyk spoke."]).spans


def test_readers_that_differ_are_refused(readers: tuple[Path, Path], tmp_path: Path) -> None:
    first, _ = readers
    other = tmp_path / "other"
    other.mkdir()
    weights = load_file(str(first / WEIGHTS_FILE))
    headless = {k: v for k, v in weights.items() if k != "qa_outputs.bias"}
    save_file(headless, str(other / WEIGHTS_FILE))
    with pytest.raises(ReaderError, match="other tensors"):
        average([(first, 1.0), (other, 1.0)])
    with pytest.raises(ReaderError, match="no reader weights"):
        average([(first, 1.0), (tmp_path / "missing", 1.0)])
    with pytest.raises(ReaderError, match="positive weight"):
        average([(first, 0.0)])


def test_a_reader_is_named_with_an_optional_weight() -> None:
    assert reader_share("runs/a:2") == (Path("runs/a"), 2.0)
    assert reader_share("runs/a:0.5") == (Path("runs/a"), 0.5)
    assert reader_share("runs/a") == (Path("runs/a"), 1.0)
    assert reader_share("C:/runs/a") == (Path("C:/runs/a"), 1.0)


def test_an_average_needs_the_first_readers_config(
    readers: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = readers  # the second folder holds weights only
    monkeypatch.setattr(sys, "argv", ["averaging", str(second), str(first), "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        averaging.main()
    assert not (tmp_path / WEIGHTS_FILE).exists()
