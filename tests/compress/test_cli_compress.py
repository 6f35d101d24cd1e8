"""``pjsim compress``: writes a loadable file and prints the stage table."""

from __future__ import annotations

import torch

from simulator.cli.main import main
from simulator.storage import unpack


def test_compress_writes_file_and_prints_stages(tmp_path, capsys):
    out = tmp_path / "l.pjc"
    assert main(["compress", "lenet_300_100", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for stage in ("dense", "pruned", "quantized", "huffman"):
        assert stage in text
    assert "KB = 1000" in text and f"wrote {out}" in text
    state = unpack(out)
    assert abs(float((state["fc1.weight"] != 0).double().mean()) - 0.08) < 1e-6
    assert state["fc1.bias"].dtype == torch.float32


def test_unknown_model_recipe_is_one_line_error(capsys):
    assert main(["compress", "resnet18"]) == 1
    assert "no Deep Compression recipe for 'resnet18'" in capsys.readouterr().err
