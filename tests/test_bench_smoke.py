"""The benchmarks still run: each script in its --quick mode, all at once (they mostly wait on live streams),
writing into a temporary folder. No figure is checked: benchmarks are not tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
FIXTURES = Path(os.environ.get("KVS_FIXTURES", BENCH.parent / "tests" / "fixtures"))

SCRIPTS: Dict[str, List[str]] = {
    "latency": ["latency.py", "--quick", "--fragment", "1"],
    "scale": ["scale.py", "--quick"],
    "recovery": ["recovery.py", "--quick", "--fragment", "1"],
    "soak": ["soak.py", "--quick"],
    "status_server": ["status_server.py", "--quick"],
    "parse_throughput": ["parse_throughput.py", "--quick", "--fixtures", str(FIXTURES)],
}


def test_every_benchmark_runs_in_quick_mode(tmp_path: Path) -> None:
    for module in ("matplotlib", "ebmlite"):  # benchmark-only requirements (bench/requirements.txt)
        pytest.importorskip(module, reason=f"{module} is a benchmark requirement (bench/requirements.txt)")
    scripts = dict(SCRIPTS)
    if not (FIXTURES / "kvs").is_dir():
        del scripts["parse_throughput"]  # it measures the real captures
    env = dict(os.environ, KVS_BENCH_RESULTS=str(tmp_path))
    runs = {name: subprocess.Popen([sys.executable, str(BENCH / args[0]), *args[1:]], cwd=BENCH, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for name, args in scripts.items()}
    failures = []
    for name, run in runs.items():
        try:
            output, _ = run.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            run.kill()
            output, _ = run.communicate()
        if run.returncode != 0:
            failures.append(f"{name} exited {run.returncode}:\n{output[-3000:]}")
    assert not failures, "\n\n".join(failures)
    written = sorted(p.name for p in tmp_path.iterdir())
    for name in scripts:
        stem = name if name == "parse_throughput" else f"{name}_quick"
        assert f"{stem}.json" in written and f"{stem}.png" in written, written
