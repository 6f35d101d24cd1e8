"""The op-rule families; importing this package registers every rule in ``OP_RULES``.

One module per family: matrix products (``linalg``), convolution (``conv``), attention
(``attention``), normalisation (``norm``), pooling (``pool``), elementwise arithmetic and activations
(``elementwise``), reductions and softmax (``reduce``), data movement (``movement``), recurrent
layers (``rnn``), dynamic-quantized ops (``quantized``).
"""

from simulator.trace.rules import (  # noqa: F401
    attention,
    conv,
    elementwise,
    linalg,
    movement,
    norm,
    pool,
    quantized,
    reduce,
    rnn,
)

__all__: list[str] = []
