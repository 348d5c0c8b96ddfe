"""The C++ core builds on its own with CMake (no Python) and passes its ctest unit tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, fixtures_root


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_core_builds_standalone_and_ctest_passes(tmp_path: Path) -> None:
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.fail("cmake is needed to build the C++ core")
    fixtures = fixtures_root()
    configure = [cmake, "-S", str(PROJECT_ROOT), "-B", str(tmp_path), "-DCMAKE_BUILD_TYPE=Release"]
    if fixtures is not None:
        configure.append(f"-DKVS_FIXTURES_DIR={fixtures / 'kvs'}")
    env = {**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": "2"}
    subprocess.run(configure, check=True, capture_output=True, env=env)
    subprocess.run([cmake, "--build", str(tmp_path)], check=True, capture_output=True, env=env)
    result = subprocess.run(
        ["ctest", "--output-on-failure"], cwd=tmp_path, capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "100% tests passed" in result.stdout
