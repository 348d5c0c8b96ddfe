"""bench/gpu_scale.py: its CPU half runs anywhere (--quick --cpu-only), and without a usable GPU its GPU
half stops at once with exit code 2 and the reason, rather than reporting a figure it could not measure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def run_bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, KVS_BENCH_RESULTS=str(tmp_path))
    env.pop("OUT", None)
    return subprocess.run([sys.executable, str(BENCH / "gpu_scale.py"), *args], cwd=BENCH, env=env,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_the_cpu_half_runs_in_quick_mode(tmp_path: Path) -> None:
    run = run_bench(tmp_path, "--quick", "--cpu-only")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "gpu_scale.json").read_text())
    content = report["content"]["720p15-h264"]
    assert content["h264_profile_idc"] == 100 and content["size"] == "1280x720"  # High profile, 720p
    (trial,) = report["cpu_trials"]
    assert trial["trial"]["backend"] == "pyav" and trial["trial"]["cameras"] == 2
    assert trial["arrived"] == 2 * 3 * 15  # 2 cameras, 3 s measured at 15 fps
    assert trial["decode_errors"] == 0 and trial["latency_ms"]["p99"] is not None
    assert trial["batch"]["count"] > 0
    assert report["gpu_trials"] == [] and report["cpu_only"] is True


def test_without_a_gpu_the_gpu_half_says_why(tmp_path: Path) -> None:
    if Path("/dev/nvidiactl").exists():
        pytest.skip("this machine has an NVIDIA driver: scripts/gpu_check.sh runs the GPU half")
    run = run_bench(tmp_path, "--quick")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "the GPU half cannot run on this machine" in run.stderr
    assert any(word in run.stderr for word in ("PyNvVideoCodec", "NVIDIA GPU", "CuPy or PyTorch"))
    assert not (tmp_path / "gpu_scale.json").exists()
