"""Deep Compression as one call, with the papers' per-layer recipes built in.

``deep_compression(model, recipe, train=..., data=...)`` runs the pipeline of Han, Mao & Dally
(ICLR 2016), each step a transform of this package:

1. iterative magnitude pruning to the recipe's per-layer keep fractions, retraining with the masks
   held after every round (``prune.iterative_prune``);
2. k-means weight sharing per layer with linear initialisation (``sharing.WeightSharing``);
3. fine-tuning of the shared centroids, each centroid moved by the sum of its weights' gradients
   (``sharing.shared_finetuning``);
4. Huffman coding of the weight-index and relative-index streams (``coding.HuffmanCoding``).

Recipes (shared/reference.md section 2; Deep Compression Tables 1-5): fraction of weights kept per
layer, bits per weight index, relative-index bits. A recipe names layers the way the paper does
(``ip1``, ``conv1_1``) and maps them to the zoo model's modules; a layer the model lacks raises
``CompressError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from simulator.compress.base import CompressError, prepare_model, resolve_layers
from simulator.compress.coding import HuffmanCoding
from simulator.compress.prune import iterative_prune
from simulator.compress.sharing import WeightSharing, shared_finetuning
from simulator.compress.training import train_classifier
from simulator.frozen import FrozenMap
from simulator.workload import CompressionRecord

__all__ = ["GENERIC_DEFAULTS", "RECIPES", "DeepCompressionRecipe", "deep_compression", "generic_recipe", "get_recipe"]

#: train(model, stage, params) with stage "prune-retrain" (params None: all) or "finetune" (codebooks).
TrainFn = Callable[[nn.Module, str, "list[nn.Parameter] | None"], object]
#: on_stage(stage, model, record) after "pruned", "shared" and "huffman".
StageFn = Callable[[str, nn.Module, CompressionRecord], object]


@dataclass(frozen=True, slots=True)
class DeepCompressionRecipe:
    """The per-layer settings of one network.

    Attributes:
        name: the network (zoo name).
        keep: paper layer name -> fraction of weights kept after pruning.
        weight_bits: paper layer name -> bits per weight (codebook) index.
        index_bits: relative-index bits of the sparse format.
        layers: paper layer name -> module name in the zoo model (identity where absent).
        source: where the numbers come from.
        prune_rounds, retrain_epochs, retrain_lr, finetune_epochs, finetune_lr, batch_size,
            retrain_lr_decay (per epoch), weight_decay: the default training schedule used when
            ``deep_compression`` gets ``data`` instead of ``train``.
    """

    name: str
    keep: FrozenMap[str, float]
    weight_bits: FrozenMap[str, int]
    index_bits: int
    layers: FrozenMap[str, str] = field(default_factory=FrozenMap)
    source: str = ""
    prune_rounds: int = 3
    retrain_epochs: float = 2.0
    retrain_lr: float = 0.01
    finetune_epochs: float = 2.0
    finetune_lr: float = 0.001
    batch_size: int = 64
    retrain_lr_decay: float = 1.0
    weight_decay: float = 0.0

    def module_name(self, layer: str) -> str:
        return self.layers.get(layer, layer)


def _recipe(name, keep, conv_bits, fc_bits, index_bits, layers=None, **schedule) -> DeepCompressionRecipe:
    bits = {k: (conv_bits if k.startswith("conv") else fc_bits) for k in keep}
    return DeepCompressionRecipe(
        name=name, keep=FrozenMap(keep), weight_bits=FrozenMap(bits), index_bits=index_bits,
        layers=FrozenMap(layers or {}),
        source="Han, Mao, Dally, Deep Compression, ICLR 2016, Tables 2-5 (shared/reference.md section 2)",
        **schedule,
    )


_VGG_CONVS = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
              "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"]
_VGG_MODULES = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]

#: Built-in recipes by zoo model name.
RECIPES: dict[str, DeepCompressionRecipe] = {
    "lenet_300_100": _recipe(
        "lenet_300_100", {"ip1": 0.08, "ip2": 0.09, "ip3": 0.26}, 6, 6, 5,
        layers={"ip1": "fc1", "ip2": "fc2", "ip3": "fc3"},
        prune_rounds=3, retrain_epochs=8, retrain_lr=0.05, retrain_lr_decay=0.7, weight_decay=1e-4,
        finetune_epochs=3, finetune_lr=0.005,
    ),
    "lenet5": _recipe(
        "lenet5", {"conv1": 0.66, "conv2": 0.12, "ip1": 0.08, "ip2": 0.19}, 8, 5, 5,
        prune_rounds=3, retrain_epochs=3, retrain_lr=0.01, finetune_epochs=2, finetune_lr=0.002,
    ),
    "alexnet_caffe": _recipe(
        "alexnet_caffe",
        {"conv1": 0.84, "conv2": 0.38, "conv3": 0.35, "conv4": 0.37, "conv5": 0.37, "fc6": 0.09, "fc7": 0.09,
         "fc8": 0.25}, 8, 5, 4,
    ),
    "vgg16": _recipe(
        "vgg16",
        {**dict(zip(_VGG_CONVS, [0.58, 0.22, 0.34, 0.36, 0.53, 0.24, 0.42, 0.32, 0.27, 0.34, 0.35, 0.29, 0.36])),
         "fc6": 0.04, "fc7": 0.04, "fc8": 0.23}, 8, 5, 5,
        layers={**{c: f"features.{i}" for c, i in zip(_VGG_CONVS, _VGG_MODULES)},
                "fc6": "classifier.0", "fc7": "classifier.3", "fc8": "classifier.6"},
    ),
}
# torchvision-style AlexNet (ungrouped convs): the same recipe on its module names.
RECIPES["alexnet"] = DeepCompressionRecipe(
    name="alexnet", keep=RECIPES["alexnet_caffe"].keep, weight_bits=RECIPES["alexnet_caffe"].weight_bits,
    index_bits=4, source=RECIPES["alexnet_caffe"].source,
    layers=FrozenMap({"conv1": "features.0", "conv2": "features.3", "conv3": "features.6", "conv4": "features.8",
                      "conv5": "features.10", "fc6": "classifier.1", "fc7": "classifier.4", "fc8": "classifier.6"}),
)


#: Per-layer-type defaults of the generic recipe: (fraction kept, bits per shared-weight index) for conv
#: kernels (weights of 3+ dims) and fully connected / embedding matrices (2-D), and the relative-index
#: bits. Deep Compression (Han, Mao, Dally, ICLR 2016), Table 4 (AlexNet; shared/reference.md section 2):
#: conv layers keep 35-84% (conv2-conv5 35-38%) with 8-bit weights, fc6/fc7 keep 9% with 5-bit weights
#: (8 bits conv, 5 bits fc in every network of the paper); relative indices 5 bits (LeNet, VGG-16).
GENERIC_DEFAULTS = {"conv": (0.35, 8), "fc": (0.09, 5), "index_bits": 5}


def generic_recipe(model: nn.Module, name: str) -> DeepCompressionRecipe:
    """Deep Compression for any network: ``GENERIC_DEFAULTS`` per layer type, every conv/fc weight.

    Raises:
        CompressError: the model has no weight of 2 or more dimensions to compress.
    """
    from simulator.compress.base import weight_params

    weights = weight_params(model)
    if not weights:
        raise CompressError(f"{name}: no conv or linear weight to compress")
    kind = {n.removesuffix(".weight"): ("conv" if p.dim() > 2 else "fc") for n, p in weights.items()}
    return DeepCompressionRecipe(
        name=name, keep=FrozenMap({k: GENERIC_DEFAULTS[t][0] for k, t in kind.items()}),
        weight_bits=FrozenMap({k: GENERIC_DEFAULTS[t][1] for k, t in kind.items()}),
        index_bits=GENERIC_DEFAULTS["index_bits"],
        source="generic per-layer-type defaults from Han, Mao, Dally, Deep Compression, ICLR 2016, Table 4 "
               "(shared/reference.md section 2): conv keep 35%, 8-bit weights; fc keep 9%, 5-bit; index 5 bits",
    )


def get_recipe(recipe: str | DeepCompressionRecipe, model: nn.Module | None = None) -> DeepCompressionRecipe:
    """A recipe by zoo name (``"lenet5"``), the recipe itself, or (given ``model``) the generic recipe."""
    if isinstance(recipe, DeepCompressionRecipe):
        return recipe
    if recipe not in RECIPES:
        if model is not None:
            return generic_recipe(model, recipe)
        raise CompressError(f"no Deep Compression recipe for {recipe!r}; built in: {', '.join(sorted(RECIPES))}")
    return RECIPES[recipe]


def _default_train(recipe: DeepCompressionRecipe, data: Sequence[torch.Tensor], seed: int) -> TrainFn:
    def train(model: nn.Module, stage: str, params: list[nn.Parameter] | None) -> None:
        finetune = stage == "finetune"
        train_classifier(
            model, data, epochs=recipe.finetune_epochs if finetune else recipe.retrain_epochs,
            lr=recipe.finetune_lr if finetune else recipe.retrain_lr, batch_size=recipe.batch_size,
            optimizer="sgd", momentum=0.9, seed=seed, params=params, description=f"{recipe.name} {stage}",
            lr_decay=1.0 if finetune else recipe.retrain_lr_decay, weight_decay=0.0 if finetune else recipe.weight_decay,
        )

    return train


def deep_compression(
    model: nn.Module,
    recipe: str | DeepCompressionRecipe,
    train: TrainFn | None = None,
    data: Sequence[torch.Tensor] | None = None,
    huffman: bool = True,
    on_stage: StageFn | None = None,
    seed: int = 0,
    inplace: bool = False,
) -> tuple[nn.Module, CompressionRecord]:
    """Prune, retrain, share, fine-tune and Huffman-code ``model`` with ``recipe``.

    Args:
        model: the trained dense network.
        recipe: a zoo name with a built-in recipe (``RECIPES``) or a ``DeepCompressionRecipe``.
        train: ``train(model, stage, params)`` retraining hook; ``stage`` is ``"prune-retrain"`` (params
            None: train every parameter, masks are held) or ``"finetune"`` (params: the codebooks).
        data: ``(inputs, labels)`` training tensors; used with the ready loop when ``train`` is None.
            Neither: no retraining (one-shot, e.g. storage studies on untrained weights).
        huffman: Huffman-code the streams (step 4).
        on_stage: called with ``("pruned" | "shared" | "huffman", model, record)`` after each stage.
        seed: seeds the default training loop and k-means.
        inplace: modify ``model`` instead of a copy.

    Returns:
        ``(model, record)``; the record's encodings are exactly as ``simulator.storage.pack`` stores them.

    Raises:
        CompressError: the recipe names a layer the model does not have (the message names it).
    """
    recipe = get_recipe(recipe)
    if train is None and data is not None:
        train = _default_train(recipe, data, seed)
    params = resolve_layers(model, [recipe.module_name(k) for k in recipe.keep], f"recipe {recipe.name!r} layer")
    keep = {recipe.module_name(k): v for k, v in recipe.keep.items()}
    bits = {recipe.module_name(k): v for k, v in recipe.weight_bits.items()}
    model = prepare_model(model, inplace)
    # 1. Iterative pruning with retraining (masks held).
    retrain = (lambda m: train(m, "prune-retrain", None)) if train is not None else None
    model, record = iterative_prune(model, keep, recipe.prune_rounds, retrain, recipe.index_bits, inplace=True)
    if on_stage:
        on_stage("pruned", model, record)
    # 2. k-means weight sharing, linear initialisation.
    model, record = WeightSharing(bits, init="linear", seed=seed, inplace=True).apply(model, record)
    # 3. Fine-tune the shared centroids (gradient of a centroid = sum over its weights).
    if train is not None:
        with shared_finetuning(model, list(params.values())) as codebooks:
            train(model, "finetune", codebooks)
    if on_stage:
        on_stage("shared", model, record)
    # 4. Huffman coding of weight indices and relative indices (record = encodings as packed).
    if huffman:
        model, record = HuffmanCoding().apply(model, record)
        if on_stage:
            on_stage("huffman", model, record)
    return model, CompressionRecord(record.encodings, record.steps + (f"deep compression recipe {recipe.name}",))
