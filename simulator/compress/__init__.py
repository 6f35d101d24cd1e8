"""Compression transforms: each returns ``(model, CompressionRecord)`` and composes with the others.

Registered in ``TRANSFORMS`` (name -> class): ``prune`` (magnitude pruning), ``share`` (k-means
weight sharing), ``quantize`` / ``quantize-activations`` (linear quantization), ``huffman``
(Huffman coding of the stored streams), and for LLMs ``group-quantize`` (weight-only int4/int8 with
per-group scales), ``sparsity-2:4`` and ``kv-cache-quantize`` (``simulator.compress.llm``). ``deep_compression`` composes them with the papers' recipes.
"""

from simulator.compress.base import TRANSFORMS, CompressError, Transform, register_transform, resolve_layers
from simulator.compress.binary import BinaryWeights, quantize_weights
from simulator.compress.coding import HuffmanCoding
from simulator.compress.distill import Distill, DistillConfig, distill
from simulator.compress.kmeans import kmeans_1d
from simulator.compress.llm import GroupQuantize, KVCacheQuantize, SemiStructured24
from simulator.compress.lottery import LotteryConfig, LotteryTicket, lottery_ticket
from simulator.compress.lowrank import LowRank, low_rank
from simulator.compress.prune import MagnitudePrune, iterative_prune, keep_masks
from simulator.compress.quantize import ActivationQuantize, LinearQuantize, quantize_tensor
from simulator.compress.recipes import RECIPES, DeepCompressionRecipe, deep_compression, get_recipe
from simulator.compress.sharing import WeightSharing, finetune_shared, shared_finetuning

__all__ = [
    "RECIPES",
    "TRANSFORMS",
    "ActivationQuantize",
    "BinaryWeights",
    "CompressError",
    "DeepCompressionRecipe",
    "Distill",
    "DistillConfig",
    "GroupQuantize",
    "HuffmanCoding",
    "KVCacheQuantize",
    "LinearQuantize",
    "LotteryConfig",
    "LotteryTicket",
    "LowRank",
    "MagnitudePrune",
    "SemiStructured24",
    "Transform",
    "WeightSharing",
    "deep_compression",
    "distill",
    "finetune_shared",
    "get_recipe",
    "iterative_prune",
    "keep_masks",
    "kmeans_1d",
    "lottery_ticket",
    "low_rank",
    "quantize_tensor",
    "quantize_weights",
    "register_transform",
    "resolve_layers",
    "shared_finetuning",
]
