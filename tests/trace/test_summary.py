"""Per-layer summary and op-stream rows: the numbers the ``pjsim trace`` table and CSV print."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import prune

from simulator.trace import trace
from simulator.trace.export import op_rows
from simulator.trace.summary import describe_encoding, layer_summaries
from simulator.workload import TensorEncoding


def test_layer_summary_of_a_pruned_mlp():
    """fc1 (pruned to 25%) shows its density; MACs, weight elements and output bits per layer add up."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5)).eval()
    prune.l1_unstructured(model[0], "weight", amount=0.75)
    w = trace(model, torch.rand(3, 10))
    rows = {r.module: r for r in layer_summaries(w)}
    assert list(rows) == ["0", "1", "2"]
    # layer 0: 3*10*20 = 600 MACs; weights 200 + 20; writes 3*20 floats
    assert (rows["0"].macs, rows["0"].weight_elements, rows["0"].activation_bits) == (600, 220, 3 * 20 * 32)
    assert rows["0"].encoding == "density 0.25"  # the largest weight's encoding (the bias is dense)
    # stored bits: 50 kept weights + 20 biases at 32 bits
    assert rows["0"].weight_stored_bits == (50 + 20) * 32
    assert rows["1"].encoding == "-" and rows["1"].weight_elements == 0
    assert sum(r.macs for r in rows.values()) == w.total_macs == 600 + 300


def test_describe_encoding():
    """Encodings in words: density, codebook bits and entries, relative-index bits, Huffman."""
    assert describe_encoding(None, 32) == "dense"
    enc = TensorEncoding(density=0.08, value_bits=5, index_bits=5, codebook_entries=32, mean_code_bits=3.1)
    assert describe_encoding(enc, 32) == "density 0.08, 5-bit codebook (32), 5-bit index, Huffman 3.10 b"
    assert describe_encoding(TensorEncoding(value_bits=8), 32) == "8-bit values"


def test_op_rows_flatten_arith_accesses_and_dims():
    """One row per op: arithmetic as 'op:dtype=count', bits read split into weights and inputs."""
    w = trace(nn.Linear(4, 3).eval(), torch.rand(2, 4))
    (row,) = op_rows(w)
    assert row["aten"] == "aten.addmm.default" and row["macs"] == 2 * 4 * 3
    assert row["arith"] == "add:float32=6"  # one bias add per output
    assert row["weight_read_bits"] == (12 + 3) * 32 and row["input_read_bits"] == 8 * 32
    assert row["write_bits"] == 6 * 32 and row["dims"] == "m=2;k=4;n=3;batch=1"
