"""The op-rule families; importing this package registers every rule in ``OP_RULES``.

One module per family: matrix products (``linalg``), convolution (``conv``), attention
(``attention``), normalisation (``norm``), pooling (``pool``), elementwise arithmetic and activations
(``elementwise``), reductions and softmax (``reduce``), data movement (``movement``).
"""

from simulator.trace.rules import attention, conv, elementwise, linalg, movement, norm, pool, reduce  # noqa: F401

__all__: list[str] = []
