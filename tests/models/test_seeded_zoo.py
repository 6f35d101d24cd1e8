"""Determinism of the zoo (issue 12): every factory is seeded, so the same command gives the same numbers.

Before the seed, a random initialisation could hold an exact float32 zero, which the tracer reads as
sparsity: ``pjsim simulate resnet18 --json`` differed between two runs (byte 112 of the JSON, checked
on the unseeded code) and ``pjsim trace vgg16`` flagged different layers sparse each time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from models import MODELS, load_model, model_spec
from models.registry import DEFAULT_SEED
from simulator.trace.encoding import detect_encoding

REPO = Path(__file__).resolve().parents[2]
#: Zoo models above 25 M parameters take seconds to build twice; they run with the slow tests.
BIG = {"vgg16", "alexnet", "alexnet_caffe", "resnet50", "gpt2_small"}


def _zoo_params():
    return [pytest.param(name, marks=pytest.mark.slow) if name in BIG else name for name in sorted(MODELS)]


def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("name", _zoo_params())
def test_every_zoo_factory_builds_the_same_weights_twice(name):
    torch.manual_seed(123)  # a different global state before each load must not matter
    first = load_model(name)
    torch.manual_seed(456)
    second = model_spec(name).factory()
    assert _same_state(first, second), f"zoo model {name} is not seeded"


def test_seeding_leaves_the_global_rng_untouched():
    torch.manual_seed(7)
    expected = torch.rand(5)
    torch.manual_seed(7)
    load_model("lenet_300_100")
    assert torch.equal(torch.rand(5), expected)


def test_seed_is_declared_and_overridable():
    spec = model_spec("mlp_800_800")
    assert spec.seed == DEFAULT_SEED
    # the default seed is exactly torch.manual_seed(seed) before the unseeded factory (how the
    # shipped demo records were made)
    torch.manual_seed(spec.seed)
    assert _same_state(spec.factory(), spec.factory.__wrapped__())
    other = spec.factory(seed=spec.seed + 1)
    assert not torch.equal(other.fc1.weight, spec.factory().fc1.weight)
    assert _same_state(other, spec.factory(seed=spec.seed + 1))


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "lenet5", pytest.param("vgg16", marks=pytest.mark.slow)])
def test_detected_encodings_are_identical_across_two_loads(name):
    """What the tracer reads from each weight (density from zeros, codebook, ...) repeats exactly."""
    first = {n: detect_encoding(p.detach()) for n, p in load_model(name).named_parameters()}
    second = {n: detect_encoding(p.detach()) for n, p in load_model(name).named_parameters()}
    assert first == second


def _simulate_json(tmp_path: Path, tag: str) -> bytes:
    out = tmp_path / f"{tag}.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    code = "import sys; from simulator.cli.main import _entry; sys.argv[0] = 'pjsim'; _entry()"
    result = subprocess.run([sys.executable, "-c", code, "simulate", "resnet18", "--no-layers", "--json", str(out)],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return out.read_bytes()


def test_pjsim_simulate_resnet18_twice_gives_identical_json(tmp_path):
    """Two fresh processes (fresh global RNG each): the JSON must be byte for byte the same."""
    assert _simulate_json(tmp_path, "a") == _simulate_json(tmp_path, "b")
