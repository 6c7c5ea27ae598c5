"""Average the weights of readers fine-tuned from the same start (a "model soup").

Readers trained from one set of weights on the same task stay close enough for their
weighted mean to be a reader too, often better than each one (Wortsman et al., 2022). The
shipped reader's recipe is in benchmarks/RESULTS.md::

    python -m training.averaging --out SOUP ragnews/data/reader:2 RUN1:1 RUN2:1
    python -m training.evaluate --checkpoint SOUP --out ragnews/data/reader
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ragnews.errors import ReaderError
from ragnews.reading.reader import CALIBRATION_FILE

WEIGHTS_FILE = "model.safetensors"


def average(readers: Sequence[tuple[Path, float]]) -> dict[str, torch.Tensor]:
    """The weighted mean (fp32) of the readers' weights; each weight is relative to their sum.

    Example:
        >>> soup = average([(Path("run-a"), 2.0), (Path("run-b"), 1.0)])  # doctest: +SKIP
        >>> soup["qa_outputs.weight"].dtype  # doctest: +SKIP
        torch.float32
    """
    if not readers or any(share <= 0 for _, share in readers):
        raise ReaderError("averaging needs at least one reader, each with a positive weight")
    total = sum(share for _, share in readers)
    mean: dict[str, torch.Tensor] = {}
    for folder, share in readers:
        path = folder / WEIGHTS_FILE
        tensors = load_weights(folder)
        if mean and tensors.keys() != mean.keys():
            raise ReaderError(f"{path}: other tensors than {readers[0][0] / WEIGHTS_FILE}")
        for name, tensor in tensors.items():
            if name in mean and tensor.shape != mean[name].shape:
                raise ReaderError(f"{path}: {name} is {tuple(tensor.shape)}, not as the first")
            part = tensor.float() * (share / total)
            mean[name] = mean[name] + part if name in mean else part
    return mean


def load_weights(folder: Path) -> dict[str, torch.Tensor]:
    """A reader folder's weights, or a ReaderError naming the file."""
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        raise ReaderError(f"{path}: no reader weights here")
    return load_file(str(path))


def copy_reader_files(source: Path, out: Path) -> None:
    """Copy a reader's config and tokenizer into ``out``; not its weights, nor its calibration
    (fitted on other weights)."""
    for part in source.iterdir():
        if part.is_file() and part.name not in (WEIGHTS_FILE, CALIBRATION_FILE):
            shutil.copy(part, out / part.name)


def reader_share(spec: str) -> tuple[Path, float]:
    """``FOLDER:WEIGHT`` (or ``FOLDER``, weight 1) as a pair.

    >>> reader_share("runs/a:2")
    (PosixPath('runs/a'), 2.0)
    """
    folder, _, share = spec.rpartition(":")
    if not folder or not share.replace(".", "", 1).isdigit():
        return Path(spec), 1.0
    return Path(folder), float(share)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("readers", nargs="+", help="reader folders, each FOLDER or FOLDER:WEIGHT")
    ap.add_argument("--out", type=Path, required=True, help="folder for the averaged checkpoint")
    args = ap.parse_args()
    readers = [reader_share(spec) for spec in args.readers]
    config = readers[0][0] / "config.json"
    if not config.is_file():
        ap.error(f"{config}: the first reader has no config.json to give the average")
    soup = average(readers)
    args.out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.contiguous() for k, v in soup.items()}
    save_file(tensors, str(args.out / WEIGHTS_FILE), metadata={"format": "pt"})
    copy_reader_files(readers[0][0], args.out)
    print(f"{len(readers)} readers averaged into {args.out}")


if __name__ == "__main__":
    main()
