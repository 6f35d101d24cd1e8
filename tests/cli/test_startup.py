"""`pjsim --help` starts without the heavy stack (issue 17: under 0.5 s; it took ~1 s importing the
cost model and numpy for the help text). Checked by what is imported, not by a clock, so the test
holds on a loaded machine; `make bench` measures the time."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "numpy", "pandas", "plotly", "simpy", "simulator.api", "simulator.hardware", "models")


def test_help_loads_no_heavy_module():
    code = (
        "import sys\n"
        "from simulator.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"bad = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(bad)); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    imported = result.stdout.strip().splitlines()[-1:]
    assert result.returncode == 0, f"pjsim --help imports {imported} {result.stderr[-500:]}"


def test_every_command_help_still_lists_its_examples():
    result = subprocess.run([sys.executable, "-c", "from simulator.cli.main import main; main(['--help'])"],
                            capture_output=True, text=True)
    for command in ("simulate", "trace", "report", "compress", "inspect", "profiles", "sweep", "models"):
        assert f"pjsim {command}" in result.stdout, command


def test_models_list_reads_the_zoo_without_torch():
    code = (
        "import sys\n"
        "from simulator.cli.main import main\n"
        "main(['models', 'list'])\n"
        f"bad = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(bad)); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    imported = result.stdout.strip().splitlines()[-1:]
    assert result.returncode == 0, f"pjsim models list imports {imported} {result.stderr[-500:]}"
    assert "resnet8" in result.stdout and "lenet_300_100-dense" in result.stdout


def test_the_catalogue_is_the_registry():
    """The decorators read from source are exactly what importing the zoo registers."""
    from models import MODELS
    from models.pretrained import available_checkpoints
    from simulator.cli.cmd_models import _checkpoints, zoo_catalogue

    assert zoo_catalogue() == {n: (s.input_shape, s.description) for n, s in MODELS.items()}
    assert _checkpoints() == available_checkpoints()
