"""``pjsim generate MODEL``: prefill + decode of a decoder with a KV cache (``simulator.generation``)."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.command("generate")
@click.argument("model")
@click.option("--profile", default="horowitz45-full", show_default=True, help="Hardware profile name or TOML path.")
@click.option("--prompt", "prompt_tokens", type=click.IntRange(min=1), default=128, show_default=True, help="Prompt tokens P.")
@click.option("--new", "new_tokens", type=click.IntRange(min=1), default=128, show_default=True, help="Generated tokens N.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Sequences generated together B.")
@click.option("--samples", type=click.IntRange(min=1), default=4, show_default=True, help="Distinct cache lengths simulated.")
@click.option("--memory-bits", type=click.IntRange(min=1), default=None, help="Capacity for the fit question (default: the global buffer).")
@click.option("--device", default=None, help="Build inputs on this device ('meta' for large configs built on meta).")
@click.option("--weight-bits", type=click.Choice(["4", "8"]), default=None,
              help="Weight-only quantization of every linear layer but the LM head (GroupQuantize).")
@click.option("--group-size", type=click.IntRange(min=1), default=128, show_default=True,
              help="Input channels per scale with --weight-bits (fp16 scale + fp16 zero per group).")
@click.option("--sparsity", type=click.Choice(["2:4"]), default=None, help="2:4 semi-structured sparsity of the linear layers.")
@click.option("--kv-bits", type=click.IntRange(min=2, max=16), default=None, help="KV cache held at this width (KVCacheQuantize).")
def command(
    model: str, profile: str, prompt_tokens: int, new_tokens: int, batch: int, samples: int, memory_bits: int | None,
    device: str | None, weight_bits: str | None, group_size: int, sparsity: str | None, kv_bits: int | None,
) -> None:
    """Time to first token, energy per token, tokens/s and KV-cache fit of a decoder.

    MODEL is a ``package.module:factory`` returning a decoder with a KV-cache hook (models.llama).

    \b
    Example:
      pjsim generate models.llama:llama_tiny --prompt 8 --new 32
      pjsim generate models.llama:llama_7b --device meta --profile edge-llm-lpddr5 --prompt 512 --new 2048 --weight-bits 4 --kv-bits 8
    """
    from models import load_model
    from simulator.compress import GroupQuantize, KVCacheQuantize, SemiStructured24
    from simulator.generation import simulate_generation

    net, record = load_model(model), None
    if sparsity:
        net, record = SemiStructured24().apply(net, record)
    if weight_bits:
        net, record = GroupQuantize(bits=int(weight_bits), group_size=group_size).apply(net, record)
    if kv_bits:
        net, record = KVCacheQuantize(bits=kv_bits).apply(net, record)
    g = simulate_generation(
        net, profile, prompt_tokens=prompt_tokens, new_tokens=new_tokens, batch=batch,
        samples=samples, device=device, memory_bits=memory_bits, record=record,
    )
    if record is not None:
        click.echo("compression: " + "; ".join(record.steps))
    fp = g.footprint
    click.echo(f"{g.model_name} on {g.profile_name}: prompt {g.prompt_tokens}, {g.new_tokens} new tokens, batch {g.batch}")
    click.echo(f"time to first token   {g.time_to_first_token_s * 1e3:.4g} ms")
    click.echo(f"energy per token      {g.energy_per_token_pj / 1e6:.4g} uJ")
    click.echo(f"decode tokens/s       {g.tokens_per_s:.4g}")
    click.echo(f"KV cache at P+N       {fp.kv_cache_bits / 8e6:.4g} MB ({g.kv_cache_bits_per_token / 8:.0f} B per token)")
    click.echo(f"needed (w + act + kv) {fp.needed_bits / 8e6:.4g} MB; fits: {'yes' if fp.fits else 'no'}; max context {g.max_context_tokens} tokens")
    for s in g.samples:
        click.echo(
            f"  cache {s.cache_tokens:>6} tokens: {s.energy_pj / 1e6:.4g} uJ, {s.latency_s * 1e3:.4g} ms, "
            f"cache {'fits on chip' if s.kv_cache_fits_on_chip else 'does not fit on chip'}"
        )
