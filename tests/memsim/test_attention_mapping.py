"""A transformer encoder layer (PyTorch's fused fast path) is mapped as its chain of GEMMs, not streamed."""

from __future__ import annotations

import pytest
import torch

from simulator.mapping import map_workload
from simulator.trace import trace
from tests.memsim.builders import level, make_profile

PROFILE = make_profile([
    level("rf", "register_file", 8192, 1.0, bandwidth=256.0),
    level("sram", "sram", 10**6, 5.0, bandwidth=128.0),
    level("dram", "dram", 10**9, 640.0, bandwidth=64.0, latency=50.0),
])


@pytest.fixture(scope="module")
def layer_workload():
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, batch_first=True).eval()
    return trace(layer, torch.randn(1, 5, 16), model_name="encoder_layer")


def test_encoder_layer_is_tiled_as_gemms(layer_workload):
    ops = [op for op in layer_workload.ops if op.kind == "transformer_layer"]
    if not ops:
        pytest.skip("this torch build did not take the fused encoder-layer fast path")
    schedule = map_workload(layer_workload, PROFILE)
    assert dict(schedule.unmapped) == {}
    op = next(o for o in schedule.ops if o.kind == "transformer_layer")
    assert op.mapping == "gemm"
    # L = 5 rows, E = 16, F = 32: qkv 5*16*48 + scores 2*5*5*8 + context 2*5*8*5 + out 5*16*16
    # + ffn 5*16*32 + 5*32*16 = 3840 + 400 + 400 + 1280 + 2560 + 2560 = 11,040 MACs.
    assert op.macs == 11_040
    assert op.operations[0].count == 11_040
    # The array reads one weight per MAC of the four weight GEMMs: (3840 + 1280 + 2560 + 2560) x 32 bits
    # (+ the biases and norm parameters streamed once).
    weight_macs = 3840 + 1280 + 2560 + 2560
    small_params = 48 + 16 + 4 * 16 + 32 + 16  # in/out projection biases, two norms, ffn biases
    assert op.bits("rf", "weights", "read") == pytest.approx((weight_macs + small_params) * 32)
    assert len(op.tiles) == 6  # one register-file tile per GEMM (the SRAM holds everything)
