"""``pjsim generate``: prints the generation study's headline numbers."""

from __future__ import annotations

from simulator.cli.main import main


def test_generate_prints_time_to_first_token_energy_per_token_and_fit(capsys):
    code = main(["generate", "models.llama:llama_tiny", "--prompt", "8", "--new", "8", "--samples", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    for text in ("time to first token", "energy per token", "decode tokens/s", "KV cache at P+N", "max context"):
        assert text in out
    # 2 x 2 layers x 2 kv heads x 16 x 32 bits = 4096 bits = 512 B per token
    assert "(512 B per token)" in out


def test_generate_compression_flags(capsys):
    code = main(["generate", "models.llama:llama_tiny", "--prompt", "8", "--new", "4", "--samples", "2",
                 "--weight-bits", "4", "--group-size", "16", "--kv-bits", "8"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "weight-only int4, groups of 16" in out and "KV cache quantized to 8 bit" in out
    # 2 x 2 layers x 2 kv heads x 16 x 8 bits = 1024 bits = 128 B per token
    assert "(128 B per token)" in out
