"""Tracing: a PyTorch model and example inputs become a ``Workload`` (see ``tracer.trace``).

``trace`` records every aten call of one forward pass; the op rules (``op_rules`` registry, families
in ``rules/``) cost each call from shapes and dtypes; ``encoding.detect_encoding`` reads compression
off weight values; ``summary`` and ``export`` turn a workload into a per-layer table and an op-stream file.
"""

from simulator.trace.encoding import detect_encoding
from simulator.trace.op_rules import IGNORED_OPS, OP_RULES, RuleResult, TensorMeta, register_op_rule
from simulator.trace.tracer import trace

__all__ = ["IGNORED_OPS", "OP_RULES", "RuleResult", "TensorMeta", "detect_encoding", "register_op_rule", "trace"]
