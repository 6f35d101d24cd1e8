"""A traced workload in the peers' formats, so a user can cross-check a layer in ZigZag or Timeloop.

- ZigZag: one workload YAML listing every conv and linear op as a layer, in the format of ZigZag's
  own ``inputs/workload/resnet18.yaml`` (``shared/peers-data/zigzag/workloads/resnet18.yaml``): convs as
  ``O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]`` with ``loop_sizes [B, K, C, OY, OX, FY, FX]``
  (grouped convs with ``G`` per group, depthwise as ZigZag writes them), linears as ZigZag's ``Gemm``
  (``shared/peers-data/zigzag/workloads/gemm_layer.yaml``: ``[D0, D1, D2]`` = rows, outputs, inputs).
  ``operand_precision`` are the traced (or ``--precision``) bits: W the stored value bits, I the input
  bits, O the partial-sum bits (the accumulator if given; integer MACs 2x the input bits, as ZigZag's
  8 -> 16; float MACs the output's), O_final the output bits. ``operand_source.I`` is the id of the nearest
  exported layer the input comes from (through streaming ops), its own id for a network input.
- Timeloop: one ``problem`` YAML per conv/linear op in the format of the tutorial's
  ``example_designs/_include/default_problem.yaml`` (the ``conv2D`` shape: ``C M R S N P Q`` with
  strides, dilations and pads; R and P along the width, S and Q along the height). A grouped conv is
  one group's problem (``C/G``, ``M/G``), run G times (``groups`` in the file's comment); a linear is a
  1x1 conv with ``N`` = its rows.

Only conv and linear ops are exported (the layers the peers map); everything else is listed in the
ZigZag file's header comment as skipped, by kind.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from simulator.ops import ConvDims, GemmDims, OpKind
from simulator.workload import Op, Workload

__all__ = ["TIMELOOP_CONV2D_SHAPE", "PeerLayer", "export_layers", "timeloop_problems", "zigzag_workload"]

#: Timeloop's conv2D problem shape, as in its ``default_problem.yaml`` (Timeloop/Accelergy exercises, 2d55108).
TIMELOOP_CONV2D_SHAPE = {
    "coefficients": [{"default": 1, "name": n} for n in ("Wstride", "Hstride", "Wdilation", "Hdilation")],
    "data_spaces": [
        {"name": "Weights", "projection": [[["C"]], [["M"]], [["R"]], [["S"]]]},
        {"name": "Inputs", "projection": [[["N"]], [["C"]], [["R", "Wdilation"], ["P", "Wstride"]],
                                          [["S", "Hdilation"], ["Q", "Hstride"]]]},
        {"name": "Outputs", "projection": [[["N"]], [["M"]], [["Q"]], [["P"]]], "read_write": True},
    ],
    "dimensions": ["C", "M", "R", "S", "N", "P", "Q"],
    "name": "conv2D",
}


@dataclass(frozen=True, slots=True)
class PeerLayer:
    """One exported op: its id among the exported layers, the op, and the operand bits."""

    id: int
    op: Op
    source: int
    weight_bits: int
    input_bits: int
    output_bits: int
    partial_bits: int


def _hw(t: tuple[int, ...]) -> tuple[int, int]:
    """(height, width) of a 1-d or 2-d spatial tuple (a 1-d conv has height 1)."""
    return ((1,) * (2 - len(t)) + tuple(t))[-2:]


def _bits(workload: Workload, op: Op, role: str, fallback: int) -> int:
    for access in op.accesses:
        if access.role == role:
            info = workload.tensors[access.tensor]
            if role == "weights" and info.encoding is not None and not info.encoding.is_dense:
                return int(info.encoding.value_bits)
            return int(info.dtype.bits)
    return fallback


def export_layers(workload: Workload, accumulator_bits: int | None = None) -> list[PeerLayer]:
    """The conv and linear ops of ``workload`` with their ids, input sources and operand bits."""
    kept = [op for op in workload.ops if op.kind in (OpKind.CONV, OpKind.LINEAR)
            and isinstance(op.dims, (ConvDims, GemmDims)) and not getattr(op.dims, "transposed", False)
            and len(getattr(op.dims, "kernel_size", ())) <= 2]
    ids = {op.index: i for i, op in enumerate(kept)}
    ops_by_index = {op.index: op for op in workload.ops}

    def source(op: Op) -> int:
        seen, frontier = set(), [a.tensor for a in op.reads if a.role == "inputs"]
        while frontier:
            tensor = frontier.pop()
            producer = workload.tensors[tensor].producer if tensor in workload.tensors else None
            if producer is None or producer in seen:
                continue
            if producer in ids:
                return ids[producer]
            seen.add(producer)
            frontier.extend(a.tensor for a in ops_by_index[producer].reads if a.role == "inputs")
        return ids[op.index]

    layers = []
    for op in kept:
        i_bits = _bits(workload, op, "inputs", 32)
        integer = op.mac_dtype is not None and op.mac_dtype.kind == "int"
        partial = accumulator_bits or (2 * i_bits if integer else _bits(workload, op, "outputs", 32))
        layers.append(PeerLayer(ids[op.index], op, source(op), _bits(workload, op, "weights", 32), i_bits,
                                _bits(workload, op, "outputs", 32), partial))
    return layers


def _zigzag_layer(layer: PeerLayer) -> dict:
    d = layer.op.dims
    precision = {"W": layer.weight_bits, "I": layer.input_bits, "O": layer.partial_bits, "O_final": layer.output_bits}
    if isinstance(d, GemmDims):
        entry = {"operator_type": "Gemm", "equation": "O[d0][d1]+=I[d0][d2]*W[d2][d1]", "dimension_relations": [],
                 "loop_dims": ["D0", "D1", "D2"], "loop_sizes": [d.batch * d.m, d.n, d.k]}
    else:
        size = _hw
        oy, ox = size(d.output_size)
        fy, fx = size(d.kernel_size)
        sy, sx = size(d.stride)
        dy, dx = size(d.dilation)
        rel = [f"ix={sx}*ox+{dx}*fx", f"iy={sy}*oy+{dy}*fy"]
        if d.groups == 1:
            entry = {"operator_type": "Conv", "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
                     "dimension_relations": rel, "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
                     "loop_sizes": [d.batch, d.out_channels, d.in_channels, oy, ox, fy, fx]}
        else:
            entry = {"operator_type": "Conv", "equation": "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]",
                     "dimension_relations": rel, "loop_dims": ["B", "G", "K", "C", "OY", "OX", "FY", "FX"],
                     "loop_sizes": [d.batch, d.groups, d.out_channels // d.groups, d.in_channels // d.groups,
                                    oy, ox, fy, fx]}
        if any(d.padding):
            py, px = size(d.padding)
            entry["padding"] = [[py, py], [px, px]]
    return {"id": layer.id, "name": layer.op.module or f"op{layer.op.index}", **entry,
            "operand_precision": precision, "operand_source": {"I": layer.source, "W": layer.id}}


def zigzag_workload(workload: Workload, accumulator_bits: int | None = None) -> str:
    """ZigZag workload YAML text for the conv and linear layers of ``workload``."""
    import yaml

    layers = export_layers(workload, accumulator_bits)
    skipped = Counter(op.kind.value for op in workload.ops if op.index not in {ly.op.index for ly in layers})
    head = (f"# ZigZag workload exported by pjsim from {workload.model_name}, batch {workload.batch_size}: "
            f"{len(layers)} conv/linear layers\n# not exported (streaming/other ops): "
            + (", ".join(f"{k} x{n}" for k, n in sorted(skipped.items())) or "none") + "\n")
    return head + yaml.safe_dump([_zigzag_layer(ly) for ly in layers], sort_keys=False, default_flow_style=None)


def timeloop_problems(workload: Workload) -> dict[str, str]:
    """``{file name: Timeloop problem YAML}``, one per conv/linear layer (``NNN_<layer>.yaml``)."""
    import yaml

    out = {}
    for layer in export_layers(workload):
        d, groups = layer.op.dims, 1
        if isinstance(d, GemmDims):
            inst = {"C": d.k, "M": d.n, "N": d.batch * d.m, "P": 1, "Q": 1, "R": 1, "S": 1, "H": 1, "W": 1,
                    "Hstride": 1, "Wstride": 1, "Hdilation": 1, "Wdilation": 1, "Hpad": 0, "Wpad": 0}
        else:
            two = _hw
            (h, w), (q, p), (s, r) = two(d.input_size), two(d.output_size), two(d.kernel_size)
            (hs, ws), (hd, wd), (hp, wp) = two(d.stride), two(d.dilation), two(d.padding)
            groups = d.groups
            inst = {"C": d.in_channels // groups, "M": d.out_channels // groups, "N": d.batch, "P": p, "Q": q,
                    "R": r, "S": s, "H": h, "W": w, "Hstride": hs, "Wstride": ws, "Hdilation": hd, "Wdilation": wd,
                    "Hpad": hp, "Wpad": wp}
        name = layer.op.module or f"op{layer.op.index}"
        head = (f"# Timeloop problem exported by pjsim: {workload.model_name} layer {name} (op {layer.op.index}, "
                f"{layer.op.macs:,} MACs" + (f"; one of groups: {groups}, run {groups} times" if groups > 1 else "") + ")\n")
        body = {"problem": {"version": 0.4, "instance": dict(sorted(inst.items())), "shape": TIMELOOP_CONV2D_SHAPE}}
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
        out[f"{layer.id:03d}_{safe}.yaml"] = head + yaml.safe_dump(body, sort_keys=False)
    return out
