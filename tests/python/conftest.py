import os
import pathlib
import subprocess
import sys

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


# The Python package as the normal CMake build lays it out (build/python/fusionrt, see the Python
# section of CMakeLists.txt); FRT_PYTHON_BUILD_DIR points elsewhere (e.g. another build folder).
PY_BUILD_DIR = pathlib.Path(os.environ.get("FRT_PYTHON_BUILD_DIR", ROOT / "build" / "python"))


@pytest.fixture(scope="session")
def frt():
    """The fusionrt package from the build tree; skips when the extension was not built."""
    if not list((PY_BUILD_DIR / "fusionrt").glob("_fusionrt*.so")):
        pytest.skip(f"the fusionrt extension is not built in {PY_BUILD_DIR} (configure with "
                    "pybind11-dev installed, FRT_PYTHON=ON, and build)")
    if str(PY_BUILD_DIR) not in sys.path:
        sys.path.insert(0, str(PY_BUILD_DIR))
    import fusionrt
    return fusionrt
