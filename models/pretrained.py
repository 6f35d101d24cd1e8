"""The trained checkpoints shipped in ``models/checkpoints/``: ``load_checkpoint(name)``.

Names: ``"<model>-dense"`` (a torch state dict) and ``"<model>-deep-compression"`` (a pjsim compressed
file, ``simulator.storage``), for ``lenet_300_100`` and ``lenet5``. Each has a JSON file beside it
saying how it was trained and its measured test error. They are produced by
``python -m models.make_checkpoints`` with the project's own training and compression code.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from models.registry import load_model
from simulator.errors import ModelError
from simulator.workload import CompressionRecord

__all__ = ["CHECKPOINT_DIR", "available_checkpoints", "load_checkpoint"]

CHECKPOINT_DIR = Path(__file__).parent / "checkpoints"
_SUFFIXES = {"dense": ".pt", "deep-compression": ".pjc"}


def available_checkpoints() -> list[str]:
    """Names of the shipped checkpoints (those with a metadata file)."""
    return sorted(p.stem for p in CHECKPOINT_DIR.glob("*.json"))


def load_checkpoint(name: str) -> tuple[nn.Module, CompressionRecord, dict]:
    """Load a shipped checkpoint.

    Args:
        name: ``"<model>-dense"`` or ``"<model>-deep-compression"``; a bare model name means dense.

    Returns:
        ``(model, record, metadata)``: the model in eval mode with the stored weights, the compression
        record (empty for dense; exactly as packed for compressed), and the metadata dict.

    Raises:
        ModelError: no such checkpoint (the message lists those shipped).
    """
    if "-" not in name:
        name = f"{name}-dense"
    model_name, _, stage = name.partition("-")
    meta_path = CHECKPOINT_DIR / f"{name}.json"
    if stage not in _SUFFIXES or not meta_path.is_file():
        raise ModelError(f"no checkpoint {name!r}; shipped: {', '.join(available_checkpoints()) or 'none'}")
    metadata = json.loads(meta_path.read_text())
    path = CHECKPOINT_DIR / f"{name}{_SUFFIXES[stage]}"
    model = load_model(model_name)
    if stage == "dense":
        state = torch.load(path, weights_only=True)
        record = CompressionRecord()
    else:
        from simulator.storage import read_record, unpack

        state = unpack(path)
        record = read_record(path)
    model.load_state_dict(state)
    model.eval()
    return model, record, metadata
