"""``pjsim trace``: the per-layer table, the op stream file, and clear errors for bad output paths."""

from __future__ import annotations

import csv

from simulator.cli.main import main


def test_trace_prints_table_and_writes_csv(tmp_path, capsys):
    """LeNet-5: the table shows conv2's 1,600,000 MACs and the total; the CSV has one row per op."""
    out = tmp_path / "ops.csv"
    assert main(["trace", "lenet5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "conv2" in text and "1,600,000" in text and "2,293,000" in text and "431,080" in text
    rows = list(csv.DictReader(out.open()))
    assert [r["module"] for r in rows] == ["conv1", "pool1", "conv2", "pool2", "ip1", "", "ip2"]
    assert sum(int(r["macs"]) for r in rows) == 2_293_000
    assert rows[0]["dims"].startswith("batch=1;in_channels=1;out_channels=20;groups=1;")


def test_trace_meta_batch_size(capsys):
    """--device meta --batch-size 2 traces ResNet-50 with twice the batch-1 MACs (2 x 4,089,184,256)."""
    assert main(["trace", "resnet50", "--device", "meta", "--batch-size", "2"]) == 0
    assert "8,178,368,512" in capsys.readouterr().out


def test_bad_output_suffix_fails_before_tracing(tmp_path, capsys):
    """An unknown suffix is a one-line error naming the file; nothing is written."""
    assert main(["trace", "lenet5", "--out", str(tmp_path / "ops.txt")]) == 1
    err = capsys.readouterr().err
    assert "ops.txt" in err and ".csv or .parquet" in err
    assert not (tmp_path / "ops.txt").exists()


def test_import_path_model_needs_input_shape(capsys):
    """A package.module:factory model without --input-shape is a usage error (exit 2)."""
    assert main(["trace", "models.lenet:lenet5"]) == 2
    assert main(["trace", "models.lenet:lenet5", "--input-shape", "1,1,28,28"]) == 0
    assert "2,293,000" in capsys.readouterr().out
