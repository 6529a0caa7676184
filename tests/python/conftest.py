import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI = ROOT / "build" / "fusionrt"


@pytest.fixture(scope="session")
def fusionrt():
    """Runs the built fusionrt CLI; returns CompletedProcess (text mode)."""
    if not CLI.exists():
        pytest.fail(f"{CLI} not built; run scripts/build.sh first")

    def run(*args):
        return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=600)

    return run
