"""Declared derivation rules: how a profile prices what its tables do not list.

A profile lists energies for some (data kind, bits, operation) rows and some memory levels. Anything else
is either derived by one of the rules declared here or refused with a ``ProfileError``; nothing is guessed.
Every derived value carries a source string naming the rule, the row it came from and the arithmetic,
e.g. ``"derived: int mult ∝ bits² from int8.mult 0.2 pJ: 0.2 × (16/8)² = 0.8 pJ"``.

The rules (pure Python; Horowitz, "Computing's energy problem", ISSCC 2014, Fig. 1.1.9, 45 nm):

- **int add ∝ bits** (ripple/carry-lookahead adder energy is linear in width; Horowitz 8 → 32 bit:
  0.03 → 0.1 pJ, ratio 3.3 for 4× the bits).
- **int mult ∝ bits²** (array multiplier: bits² partial-product cells; Horowitz 8 → 32 bit: 0.2 → 3.1 pJ,
  ratio 15.5 ≈ 16).
- **compare = add** of the same data type (a comparison is a subtraction); the add may itself be derived.
- **float rows are never derived.** Float energy is not a power law of the width: Horowitz's 16 → 32 bit
  rows grow 2.25× for add and 3.4× for mult, neither ∝ bits nor ∝ bits², because mantissa, exponent and
  normalisation logic scale differently. A float row must be listed.
- **exp, div and decode rows are never derived** (no declared rule), except for bfloat16 below.
- **bfloat16 from float16** (when ``[energy.bfloat16]`` does not list the row): the two formats share
  the 16-bit width and differ in the significand, p = 8 bits (bf16, hidden bit included) vs 11 (fp16).
  mult ∝ p² (the significand multiplier array; (8/11)² = 0.529 of the fp16 mult), add ∝ p (aligner and
  adder; 8/11 = 0.727), compare as add, exp and div priced as the float16 row (no finer rule: an upper
  bound). Before bfloat16 was its own type it was priced exactly as float16.
- **memory energy per bit at the access width**: moving ``n`` bits through a level costs
  ``n × energy / word_bits`` (``MemoryLevel.access_energy_pj``).
- **SRAM energy ∝ √capacity** (opt-in per entry, ``{ rule = "sqrt_capacity" }``): the energy of one
  access of a bank of capacity ``C`` is ``E_ref × √(C / C_ref)``, from reference points the profile lists
  under ``[rules.sqrt_capacity.<name>]`` (Horowitz: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ per 64-bit
  access), then scaled per bit from the reference's word to the level's word. A bank grows its bit lines
  and word lines with √C, so the switched capacitance per access does too.
- **multiple of a MAC** (opt-in per entry, ``{ rule = "mac_multiple", factor = { ... }, of = "int16" }``):
  the normalised energy ladders of Eyeriss (Chen et al., ISCA 2016, Table IV) price each memory access
  as a multiple of one MAC (one mult + one add) at a data type.

Which reference a power-law rule starts from. A derived value at width ``b`` (or capacity ``C``) starts
from the nearest listed reference at or below ``b`` and is capped at the next listed reference above;
below the narrowest reference it is scaled down from that one. Starting from the nearest reference on
either side would make energy non-monotone wherever a listed row sits below the rule's prediction: from
Horowitz's own add rows (int8 0.03, int16 0.05 pJ) a 12-bit add would cost 0.03 × 12/8 = 0.045 pJ but a
13-bit add 0.05 × 13/16 = 0.041 pJ. Starting below and capping above makes every derived energy
non-decreasing in bits (and in capacity) whenever the listed rows are, and leaves listed rows exact.
Ties do not arise: the reference is the widest listed width ≤ ``b``.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simulator.errors import ProfileError

__all__ = [
    "ALIAS_RULES",
    "BIT_WIDTH_RULES",
    "DECODE_OPERATIONS",
    "ENERGY_OPERATIONS",
    "EnergyValue",
    "PowerLawRule",
    "SIBLING_FORMAT_RULES",
    "SQRT_CAPACITY",
    "derive_op_energy",
    "power_law_from_references",
    "sqrt_capacity_energy",
]

#: Operations a profile may list under ``[energy.<dtype>]``.
ENERGY_OPERATIONS = ("add", "mult", "compare", "exp", "div")
#: Operations a profile may list under ``[energy.decode]`` (per lookup / per decoded symbol; no dtype).
DECODE_OPERATIONS = ("codebook", "huffman_symbol")


@dataclass(frozen=True, slots=True)
class EnergyValue:
    """An energy and where it came from.

    Attributes:
        energy_pj: the energy in pJ.
        source: the citation of a listed row, or ``"derived: <rule> from <row> ...: <arithmetic>"``.
        rule: the rule's name when derived, ``""`` when listed.
    """

    energy_pj: float
    source: str
    rule: str = ""


@dataclass(frozen=True, slots=True)
class PowerLawRule:
    """``energy ∝ x ** exponent`` from a listed reference of the same kind (``x`` = bits or capacity)."""

    name: str
    exponent: float

    def scale(self, energy_pj: float, x: float, x_ref: float) -> float:
        """``energy_pj × (x / x_ref) ** exponent``."""
        return energy_pj * (x / x_ref) ** self.exponent


#: Power-law rules for integer arithmetic, keyed (data kind, operation). Float has none on purpose.
BIT_WIDTH_RULES: dict[tuple[str, str], PowerLawRule] = {
    ("int", "add"): PowerLawRule("int add ∝ bits", 1.0),
    ("int", "mult"): PowerLawRule("int mult ∝ bits²", 2.0),
}

#: Formats priced from a listed sibling format of the same width: (kind, bits) -> (sibling kind, operation -> factor).
#: bfloat16 vs float16: significand p = 8 vs 11 bits; mult ∝ p², add ∝ p, exp/div as the sibling.
SIBLING_FORMAT_RULES: dict[tuple[str, int], tuple[str, dict[str, float]]] = {
    ("bfloat", 16): ("float", {"mult": (8 / 11) ** 2, "add": 8 / 11, "exp": 1.0, "div": 1.0}),
}

#: Operations priced as another operation of the same data type.
ALIAS_RULES: dict[str, str] = {"compare": "add"}

#: SRAM energy per access ∝ √(bank capacity).
SQRT_CAPACITY = PowerLawRule("SRAM energy ∝ √capacity", 0.5)


_KIB_BITS = 8 * 1024


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def power_law_from_references(
    rule: PowerLawRule, x: float, refs: Sequence[tuple[float, float, str]]
) -> tuple[float, str]:
    """Scale ``rule`` from the nearest listed reference at or below ``x``, capped at the next one above.

    Args:
        rule: the power law.
        x: the width in bits (or the capacity in bits) to price.
        refs: ``(x_ref, energy_pj, label)`` rows sorted by ``x_ref`` ascending, at least one;
            ``label`` names the row in the source string (``"int8.mult"``).

    Returns:
        ``(energy_pj, arithmetic)``: the value and a human-readable derivation.
    """
    xs = [r[0] for r in refs]
    i = bisect.bisect_right(xs, x) - 1
    if i >= 0 and xs[i] == x:
        return refs[i][1], f"{refs[i][2]} listed"
    base = refs[max(i, 0)]
    value = rule.scale(base[1], x, base[0])
    arithmetic = f"from {base[2]} {_fmt(base[1])} pJ: {_fmt(base[1])} × ({_fmt(x)}/{_fmt(base[0])})^{_fmt(rule.exponent)}"
    arithmetic += f" = {_fmt(value)} pJ"
    if i >= 0 and i + 1 < len(refs) and value > refs[i + 1][1]:
        cap = refs[i + 1]
        value = cap[1]
        arithmetic += f", capped at the next listed row {cap[2]} {_fmt(cap[1])} pJ"
    return value, arithmetic


def derive_op_energy(
    table: Mapping[str, float],
    sources: Mapping[str, str],
    operation: str,
    kind: str,
    bits: int,
    where: str,
) -> EnergyValue:
    """Energy of one ``operation`` on ``kind``/``bits`` operands from a profile's op table.

    Args:
        table: listed energies keyed ``"<kind><bits>.<operation>"`` (``"int8.mult"``) and ``"decode.<op>"``.
        sources: citations keyed ``"energy.<kind><bits>.<operation>"``.
        operation: ``add``, ``mult``, ``compare``, ``exp``, ``div`` or a decode operation.
        kind: ``"int"``, ``"float"`` or ``"bfloat"`` (ignored for decode operations).
        bits: operand width in bits (ignored for decode operations).
        where: the profile file, for error messages.

    Returns:
        The listed value with its citation, or a derived value whose source names rule, row and arithmetic.

    Raises:
        ProfileError: the profile neither lists the value nor can derive it by a declared rule.
    """
    if operation in DECODE_OPERATIONS:
        key = f"decode.{operation}"
        if key in table:
            return EnergyValue(table[key], sources.get(f"energy.{key}", ""))
        raise ProfileError(where, f"energy.{key}", "a listed decode energy (decode energies are never derived)", "no entry")
    key = f"{kind}{bits}.{operation}"
    if key in table:
        return EnergyValue(table[key], sources.get(f"energy.{key}", ""))
    if operation in ALIAS_RULES:
        target = ALIAS_RULES[operation]
        base = derive_op_energy(table, sources, target, kind, bits, where)
        rule = f"{operation} priced as {target}"
        source = f"derived: {rule}: {kind}{bits}.{target} {_fmt(base.energy_pj)} pJ [{base.source}]"
        return EnergyValue(base.energy_pj, source, rule)
    sibling = SIBLING_FORMAT_RULES.get((kind, bits))
    if sibling is not None and operation in sibling[1]:
        sibling_kind, factors = sibling
        base = derive_op_energy(table, sources, operation, sibling_kind, bits, where)
        value = base.energy_pj * factors[operation]
        rule = f"{kind}{bits} from {sibling_kind}{bits}"
        source = (
            f"derived: {rule} ({operation} × {_fmt(factors[operation])}, significand rule): "
            f"{sibling_kind}{bits}.{operation} {_fmt(base.energy_pj)} pJ [{base.source}] → {_fmt(value)} pJ"
        )
        return EnergyValue(value, source, rule)
    rule = BIT_WIDTH_RULES.get((kind, operation))
    if rule is None:
        why = "float energies are never derived" if kind == "float" else f"no declared rule derives {operation}"
        raise ProfileError(where, f"energy.{key}", f"a listed energy for {key} ({why})", "no entry")
    refs = sorted(
        (int(k[len(kind) : -len(operation) - 1]), v, k)
        for k, v in table.items()
        if k.endswith(f".{operation}") and k.startswith(kind) and k[len(kind) : -len(operation) - 1].isdigit()
    )
    if not refs:
        raise ProfileError(
            where, f"energy.{key}", f"a listed {kind} {operation} row of any width to derive {key} by '{rule.name}'", "no entry"
        )
    value, arithmetic = power_law_from_references(rule, bits, refs)
    return EnergyValue(value, f"derived: {rule.name} {arithmetic}", rule.name)


def sqrt_capacity_energy(
    bank_bits: float, word_bits: int, refs: Sequence[tuple[float, int, float, str]]
) -> tuple[float, str]:
    """Energy of one ``word_bits`` access of an SRAM bank of ``bank_bits`` by the √capacity rule.

    Args:
        bank_bits: capacity of one bank in bits (a level's capacity / its banks).
        word_bits: the level's access width in bits.
        refs: ``(capacity_bits, word_bits, energy_pj, label)`` reference points, at least one.

    Returns:
        ``(energy_pj, arithmetic)``.
    """
    # Put every reference on the level's access width first (memory energy per bit at the access width),
    # then apply the capacity power law between them; capacities are written in KiB for readability.
    per_word = sorted(
        (cap / _KIB_BITS, e * word_bits / w, f"{label} ({_fmt(cap / _KIB_BITS)} KiB, {_fmt(e)} pJ per {w}-bit access → {_fmt(e * word_bits / w)} pJ per {word_bits} bits)")
        for cap, w, e, label in refs
    )
    value, arithmetic = power_law_from_references(SQRT_CAPACITY, bank_bits / _KIB_BITS, per_word)
    return value, f"bank of {_fmt(bank_bits / _KIB_BITS)} KiB {arithmetic}"
