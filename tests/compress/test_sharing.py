"""Weight sharing: k = 2^bits, zeros kept, centroid gradient = sum of its weights' gradients."""

from __future__ import annotations

import torch
from torch import nn

from simulator.compress import MagnitudePrune, WeightSharing, shared_finetuning


def test_sharing_limits_distinct_values_and_keeps_zeros():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(50, 40), nn.ReLU(), nn.Linear(40, 5))
    pruned, rec = MagnitudePrune(keep={"0": 0.3}, index_bits=4).apply(model)
    shared, rec = WeightSharing(bits={"0": 3, "2": 2}).apply(pruned, rec)
    w0, w2 = shared[0].weight.detach(), shared[2].weight.detach()
    assert torch.equal(w0 == 0, pruned[0].weight.detach() == 0)
    assert len(torch.unique(w0[w0 != 0])) <= 2**3 - 1  # one entry reserved for zero in a sparse layer
    assert len(torch.unique(w2)) <= 2**2  # dense layer: all 4 entries
    enc = rec.encodings["0.weight"]
    assert (enc.value_bits, enc.codebook_entries, enc.index_bits) == (3, 8, 4)
    assert enc.density == rec.encodings["0.weight"].density == 0.3


def test_centroid_gradient_is_the_sum_of_its_weights_gradients():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 4))
    model, _ = WeightSharing(bits=2).apply(model)
    x, y = torch.randn(8, 6), torch.randn(8, 4)
    # Reference: gradient w.r.t. the (shared) weight matrix, summed per distinct value.
    weight = model[0].weight.detach().clone().requires_grad_(True)
    nn.functional.mse_loss(nn.functional.linear(x, weight, model[0].bias), y).backward()
    values = torch.unique(weight.detach())
    expected = torch.stack([weight.grad[weight.detach() == v].sum() for v in values])
    with shared_finetuning(model) as codebooks:
        nn.functional.mse_loss(model(x), y).backward()
        assert torch.allclose(codebooks[0].grad, expected, atol=1e-6)
        with torch.no_grad():
            codebooks[0] -= 0.1 * codebooks[0].grad
    after = model[0].weight.detach()
    assert len(torch.unique(after)) == len(values)  # still shared after the update
    assert torch.allclose(torch.unique(after), torch.unique(values - 0.1 * expected), atol=1e-6)
