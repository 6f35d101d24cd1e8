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


def test_unknown_model_is_one_line_error(capsys):
    assert main(["compress", "no_such_model"]) == 1
    assert "unknown model 'no_such_model'" in capsys.readouterr().err


def test_generic_recipe_by_layer_type():
    """Any model gets Deep Compression's per-layer-type settings (Han et al. 2016, Table 4 / reference.md s.2):
    conv kernels keep 35% at 8-bit shared weights, fully connected 9% at 5 bits, 5-bit relative indices."""
    from models import load_model
    from simulator.compress import get_recipe

    recipe = get_recipe("resnet8", load_model("resnet8"))
    assert recipe.keep["stem.1"] == 0.35 and recipe.weight_bits["stem.1"] == 8
    assert recipe.keep["fc"] == 0.09 and recipe.weight_bits["fc"] == 5
    assert recipe.index_bits == 5 and "Deep Compression" in recipe.source
    assert set(recipe.keep) == {n.removesuffix(".weight") for n, p in load_model("resnet8").named_parameters() if p.dim() > 1}
