"""Recurrent layers: the fused CPU LSTM layer (``aten.mkldnn_rnn_layer``) and the fused LSTM/GRU cells.

On the meta device (and for GRU on CPU) ``nn.LSTM``/``nn.GRU`` decompose into one ``addmm`` per gate
GEMM and step plus elementwise gate arithmetic; on CPU an LSTM layer arrives as one
``aten.mkldnn_rnn_layer`` call and on CUDA the gates as ``aten._thnn_fused_lstm_cell`` /
``aten._thnn_fused_gru_cell``. These rules count exactly what the decomposed path counts, so a model
costs the same on every device:

- MACs of one layer = tokens x G*H x (I + H): per time step and sample, the input GEMM
  (G*H x I) and the recurrent GEMM (G*H x H); G = 4 gates for an LSTM, 3 for a GRU, 1 for a plain RNN.
- gate arithmetic per token (``CELL_COUNTS``, H values per gate), from the decomposed kernels:
  LSTM: 2 x 4H bias adds + 4H adds (input + recurrent gates) + H add (c = f*c + i*g), 3H mults,
  3H sigmoids, 2H tanh. GRU: 2 x 3H bias adds + 2H adds (r, z) + H add (n) + H sub + H add
  (h' = n + z*(h - n)), 2H mults, 2H sigmoids, H tanh.

The fused layer is an ``OpKind.RECURRENT`` op with ``RecurrentDims``; the mapper tiles it as its two
GEMMs (``simulator.mapping.transformer.map_recurrent``). NB: the recurrence makes the H x H GEMM
sequential over time (M = batch per step); the mapper folds all tokens into M, which is what lets the
weights be reused across steps when the layer's weights stay on chip.
"""

from __future__ import annotations

from typing import Any

from simulator.ops import OpKind, RecurrentDims
from simulator.trace.op_rules import RuleResult, TensorMeta, arith, aten, merge_arith, register_op_rule
from simulator.trace.rules.elementwise import activation_arith
from simulator.workload import ArithCount, DataType

__all__ = ["CELL_COUNTS", "cell_arith", "fused_cell_rule", "mkldnn_rnn_layer_rule"]

#: Per token, in units of H: (adds without biases, bias adds, mults, sigmoids, tanhs), keyed by gate count.
CELL_COUNTS: dict[int, dict[str, int]] = {
    4: {"add": 5, "bias_add": 8, "mult": 3, "sigmoid": 3, "tanh": 2},  # LSTM
    3: {"add": 5, "bias_add": 6, "mult": 2, "sigmoid": 2, "tanh": 1},  # GRU
    1: {"add": 1, "bias_add": 2, "mult": 0, "sigmoid": 0, "tanh": 1},  # RNN (tanh)
}


def cell_arith(gates: int, tokens: int, hidden: int, biases: bool, dtype: DataType) -> tuple[ArithCount, ...]:
    """Gate arithmetic of ``tokens`` steps of a cell with ``gates`` gates of ``hidden`` values (``CELL_COUNTS``)."""
    try:
        c = CELL_COUNTS[gates]
    except KeyError:
        raise ValueError(f"recurrent cell with {gates} gates: expected 4 (LSTM), 3 (GRU) or 1 (RNN)") from None
    h = tokens * hidden
    adds = c["add"] * h + (c["bias_add"] * h if biases else 0)
    out = arith(dtype, add=adds, mult=c["mult"] * h)
    if c["sigmoid"]:
        out += activation_arith("sigmoid", c["sigmoid"] * h, dtype)
    return out + activation_arith("tanh", c["tanh"] * h, dtype)


@register_op_rule(aten.mkldnn_rnn_layer)
def mkldnn_rnn_layer_rule(
    x: TensorMeta,
    w_ih: TensorMeta,
    w_hh: TensorMeta,
    b_ih: Any,
    b_hh: Any,
    hx: Any,
    cx: Any,
    *args: Any,
    out: TensorMeta,
    **kwargs: Any,
) -> RuleResult:
    """One direction of one LSTM layer over the whole sequence: tokens x G*H x (I + H) MACs + gate arithmetic.

    ``w_ih`` is (G*H, I), ``w_hh`` (G*H, H); tokens = x.numel / I. Outputs (output, hy, cy, workspace):
    the workspace is scratch for training, not inference traffic.
    """
    gate_rows, inputs = w_ih.shape
    hidden = w_hh.shape[1]
    if inputs <= 0 or hidden <= 0 or gate_rows % hidden:
        raise ValueError(f"mkldnn_rnn_layer: weights {w_ih.shape} and {w_hh.shape} are not (G*H, I) and (G*H, H)")
    tokens = x.numel // inputs
    biases = isinstance(b_ih, TensorMeta)
    dims = RecurrentDims(tokens=max(tokens, 1), input_size=inputs, hidden_size=hidden, gates=gate_rows // hidden)
    return RuleResult(
        OpKind.RECURRENT,
        macs=dims.macs,
        mac_dtype=x.dtype,
        arith=merge_arith(cell_arith(dims.gates, tokens, hidden, biases, x.dtype)),
        write_outputs=(0, 1, 2),
        dims=dims,
    )


@register_op_rule(aten._thnn_fused_lstm_cell, aten._thnn_fused_gru_cell)
def fused_cell_rule(
    input_gates: TensorMeta,
    hidden_gates: TensorMeta,
    state: TensorMeta,
    input_bias: Any = None,
    hidden_bias: Any = None,
    *args: Any,
    out: TensorMeta,
    **kwargs: Any,
) -> RuleResult:
    """The gate arithmetic of one step (the gate GEMMs were separate ``addmm``s): ``cell_arith``.

    input_gates is (B, G*H), the state (c for an LSTM, h for a GRU) (B, H); the last output is
    training workspace, not written for inference.
    """
    hidden = state.shape[-1]
    tokens = state.numel // max(hidden, 1)
    gates = input_gates.shape[-1] // max(hidden, 1)
    biases = isinstance(input_bias, TensorMeta)
    n_out = 3 if gates == 4 else 2
    return RuleResult(
        OpKind.ELEMENTWISE,
        arith=merge_arith(cell_arith(gates, tokens, hidden, biases, input_gates.dtype)),
        write_outputs=tuple(range(n_out - 1)),
    )
