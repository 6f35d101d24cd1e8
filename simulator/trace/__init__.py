"""Tracing: a PyTorch model and example inputs become a ``Workload`` (see ``tracer.trace``)."""

from simulator.trace.op_rules import IGNORED_OPS, OP_RULES, RuleResult, TensorMeta, register_op_rule
from simulator.trace.tracer import trace

__all__ = ["IGNORED_OPS", "OP_RULES", "RuleResult", "TensorMeta", "register_op_rule", "trace"]
