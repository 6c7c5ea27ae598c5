"""Carry fine-tuned reader weights as int8 differences from the weights they started from.

A reader in fp16 is 45 MB; its difference from the reader it was trained from, in int8, is
half that, small enough to carry back from a remote training machine. Each row of a difference is
scaled by its own largest entry, so an entry comes back within 1/254 of that largest entry:
for the small differences a fine-tuning makes, finer than fp16's rounding of the weights
themselves (measured on the shipped reader in ``tests/training/test_deltas.py``).
``training/gpu_train.sh`` packs; here, unpack into a reader folder::

    python -m training.deltas pack RUN/checkpoint ragnews/data/reader OUT/delta.safetensors
    python -m training.deltas unpack OUT/delta.safetensors ragnews/data/reader CKPT
    python -m training.evaluate --checkpoint CKPT --out DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ragnews.errors import ReaderError
from training.averaging import WEIGHTS_FILE, copy_reader_files, load_weights

Weights = dict[str, torch.Tensor]


def _rows(tensor: torch.Tensor) -> torch.Tensor:
    """A tensor as a matrix of rows (a vector or a scalar is one row)."""
    return tensor.reshape(tensor.shape[0] if tensor.dim() > 1 else 1, -1)


def pack(weights: Weights, base: Weights) -> Weights:
    """``weights - base`` as int8 tensors (``NAME.q``) with one fp32 scale per row (``NAME.scale``).

    Example:
        >>> base = {"w": torch.zeros(2, 3)}
        >>> delta = pack({"w": torch.tensor([[0.0, 0.5, -1.0], [0.0, 0.0, 0.0]])}, base)
        >>> delta["w.q"].tolist(), delta["w.scale"].tolist()
        ([[0, 64, -127], [0, 0, 0]], [0.007874015718698502, 0.0])
    """
    if weights.keys() != base.keys():
        raise ReaderError("the weights and their base hold different tensors")
    delta: Weights = {}
    for name, tensor in weights.items():
        rows = _rows(tensor.float() - base[name].float())
        scale = rows.abs().amax(dim=1) / 127
        safe = torch.where(scale > 0, scale, torch.ones_like(scale))
        delta[f"{name}.q"] = (rows / safe[:, None]).round().to(torch.int8).reshape(tensor.shape)
        delta[f"{name}.scale"] = scale
    return delta


def unpack(delta: Weights, base: Weights) -> Weights:
    """The weights (fp32) that ``pack`` took, to within each row's scale / 2.

    Example:
        >>> base = {"w": torch.ones(2, 3)}
        >>> weights = {"w": torch.tensor([[1.0, 1.5, 2.0], [1.0, 1.0, 1.0]])}
        >>> unpack(pack(weights, base), base)["w"].tolist()  # 0.5 is 64 / 127 of the row's 1.0
        [[1.0, 1.503937005996704, 2.0], [1.0, 1.0, 1.0]]
    """
    if delta.keys() != {f"{name}.{part}" for name in base for part in ("q", "scale")}:
        raise ReaderError("the difference was not packed against this base")
    weights: Weights = {}
    for name, tensor in base.items():
        rows = _rows(delta[f"{name}.q"].float()) * delta[f"{name}.scale"][:, None]
        weights[name] = tensor.float() + rows.reshape(tensor.shape)
    return weights


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    verbs = ap.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("pack", help="write a trained reader's difference from its base")
    p.add_argument("weights", type=Path, help="folder of the trained reader's weights")
    p.add_argument("base", type=Path, help="folder of the reader it was trained from")
    p.add_argument("out", type=Path, help="file for the difference (.safetensors)")
    u = verbs.add_parser("unpack", help="rebuild a reader folder from a difference")
    u.add_argument("delta", type=Path, help="the file pack wrote")
    u.add_argument("base", type=Path, help="folder of the reader it was packed against")
    u.add_argument("out", type=Path, help="folder for the rebuilt reader (fp16)")
    args = ap.parse_args()
    if args.verb == "pack":
        delta = pack(load_weights(args.weights), load_weights(args.base))
        save_file(delta, str(args.out), metadata={"format": "pt"})
        return
    weights = unpack(load_file(str(args.delta)), load_weights(args.base))
    args.out.mkdir(parents=True, exist_ok=True)
    halves = {k: v.half().contiguous() for k, v in weights.items()}
    save_file(halves, str(args.out / WEIGHTS_FILE), metadata={"format": "pt"})
    copy_reader_files(args.base, args.out)


if __name__ == "__main__":
    main()
