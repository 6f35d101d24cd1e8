"""What must be on chip: the model's one ``Footprint``, decided here and nowhere else.

The mapper stores it on the ``Schedule``; every engine (the no-reuse baseline included) copies it into
the ``CostReport``; the fit chart, the SRAM-size curve and the verdict read it. No torch, no simpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.frozen import FrozenMap

__all__ = ["Footprint"]


@dataclass(frozen=True, slots=True)
class Footprint:
    """The bits a model needs on chip and whether the profile's global buffer holds them.

    Attributes:
        capacity_bits: the global buffer's capacity (0 when the profile has only DRAM).
        weight_onchip_bits: all weights in their on-chip encoding (values + indices + fillers + codebook).
        peak_activation_bits: the largest set of live activations (aliases and unwritten outputs own no memory).
        layer_weight_bits: per layer (execution order), the on-chip bits of the weights it reads.
        layer_live_activation_bits: per layer, the most activation bits live while any of its ops runs;
            its maximum is ``peak_activation_bits``, so a fit chart's tallest bar (all weights + live
            activations) reaches ``needed_bits`` exactly.
        spilling_layers: layers with DRAM traffic beyond the compulsory model input/output.
    """

    capacity_bits: int
    weight_onchip_bits: int
    peak_activation_bits: int
    layer_weight_bits: FrozenMap[str, int] = field(default_factory=FrozenMap)
    layer_live_activation_bits: FrozenMap[str, int] = field(default_factory=FrozenMap)
    spilling_layers: tuple[str, ...] = ()

    @property
    def needed_bits(self) -> int:
        """The smallest global buffer that keeps the whole model resident: weights + peak live activations."""
        return self.weight_onchip_bits + self.peak_activation_bits

    @property
    def fits(self) -> bool:
        """Whether the whole model stays resident in the global buffer."""
        return self.capacity_bits > 0 and self.needed_bits <= self.capacity_bits

    @property
    def margin_bits(self) -> int:
        """Capacity left over (negative: missing) when the whole model is held on chip."""
        return self.capacity_bits - self.needed_bits
