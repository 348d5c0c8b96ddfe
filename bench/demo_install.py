"""What `make demo` costs a newcomer: a fresh clone, the demo's install (size and time) and the demo itself.

    python bench/demo_install.py                  # pip's cache as it is (say which: warm or cold)
    python bench/demo_install.py --cold-cache     # an empty pip cache: every wheel is downloaded
    python bench/demo_install.py --then-test      # and what `make test`'s install adds afterwards

Clones the committed HEAD of this repository into a temporary directory (uncommitted changes are not
measured), then times `make .venv/.installed-demo` (venv, pip install -e ".[app,emulator]", the C++ build)
and `make demo` (the demo alone, the install being done), measures the venv with `du`, reads the C++
build's own timings from ninja's log, and keeps the demo's latency_summary.json. With --then-test, also
times the install `make test` adds after `make demo` (every extra, the test tools, the benchmarks'
requirements) and checks that its tools import. Writes bench/results/demo_install.json. Not part of the
benchmarks' smoke test: it installs from the package index and takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from reporting import BENCH, load_line, write_json

REPOSITORY = BENCH.parent
VENV = ".venv"


def timed(command: List[str], cwd: Path, env: Dict[str, str]) -> Dict[str, Any]:
    """Runs a command, echoing its output; wall seconds, CPU seconds of its processes, load before and after,
    and where pip found the wheels (downloaded from an index, or a local file)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    start = time.monotonic()
    downloaded = local = 0
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            downloaded += line.lstrip().startswith("Downloading ")
            local += line.startswith("Processing /")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"command": " ".join(command), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "load1_before": round(load_before, 2), "load1_after": round(os.getloadavg()[0], 2),
            "wheels_downloaded": downloaded, "wheels_from_local_files": local}


def du_mb(path: Path) -> float:
    kib = int(subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])
    return round(kib / 1024, 1)


def largest_packages(venv: Path, count: int = 8) -> Dict[str, float]:
    site = next(venv.glob("lib/python*/site-packages"))
    sizes = {entry.name: du_mb(entry) for entry in site.iterdir() if entry.is_dir() and "dist-info" not in entry.name}
    return dict(sorted(sizes.items(), key=lambda item: -item[1])[:count])


def native_build(clone: Path) -> Optional[Dict[str, Any]]:
    """The C++ build's steps from ninja's log: their wall span and the sum of their durations."""
    logs = list(clone.glob("build/*/.ninja_log"))
    if not logs:
        return None
    steps = []
    for line in logs[0].read_text().splitlines():
        if line.startswith("#"):
            continue
        start_ms, end_ms, _, output, _ = line.split("\t")
        steps.append((int(start_ms), int(end_ms), output))
    slowest = sorted(steps, key=lambda step: step[0] - step[1])[:5]
    return {"steps": len(steps), "span_s": (max(e for _, e, _ in steps) - min(s for s, _, _ in steps)) / 1000,
            "sum_of_steps_s": sum(e - s for s, e, _ in steps) / 1000,
            "slowest_s": {output: (end - start) / 1000 for start, end, output in slowest}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-cache", action="store_true", help="use an empty pip cache (default: pip's own)")
    parser.add_argument("--then-test", action="store_true",
                        help="also time the install `make test` adds after `make demo` (default: no)")
    parser.add_argument("--keep", type=Path, help="clone here and keep it (default: a temporary directory)")
    args = parser.parse_args()

    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a newcomer's shell: the demo writes the .pyc files it imports
    scratch = Path(tempfile.mkdtemp(prefix="kvs-demo-install-"))
    if args.cold_cache:
        env["PIP_CACHE_DIR"] = str(scratch / "pip-cache")
    clone = args.keep or scratch / "clone"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPOSITORY, capture_output=True, text=True,
                          check=True).stdout.strip()
    print(f"cloning {REPOSITORY} at {head[:12]} into {clone} ({load_line()})", flush=True)
    subprocess.run(["git", "clone", "--quiet", str(REPOSITORY), str(clone)], check=True)

    cache = Path(env.get("PIP_CACHE_DIR") or subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip())
    figures: Dict[str, Any] = {"commit": head, "pip_cache": {
        "mode": "cold (an empty PIP_CACHE_DIR)" if args.cold_cache else "as found",
        "mb_before": du_mb(cache) if cache.is_dir() else 0.0}}
    figures["demo_install"] = timed(["make", f"{VENV}/.installed-demo"], clone, env)
    figures["demo_install"]["venv_mb"] = du_mb(clone / VENV)
    figures["demo_install"]["largest_mb"] = largest_packages(clone / VENV)
    figures["demo_install"]["native_build"] = native_build(clone)
    figures["demo_run"] = timed(["make", "demo"], clone, env)
    figures["demo_run"]["venv_mb_after"] = du_mb(clone / VENV)  # the .pyc files of what the demo imported
    figures["demo_summary"] = json.loads((clone / "kvs-demo-output" / "latency_summary.json").read_text())
    figures["make_demo_total_s"] = round(figures["demo_install"]["wall_s"] + figures["demo_run"]["wall_s"], 2)
    if args.then_test:
        figures["test_install_after_demo"] = timed(["make", "install"], clone, env)
        figures["test_install_after_demo"]["venv_mb"] = du_mb(clone / VENV)
        tools = "import ray, pytest, mypy, ruff, matplotlib, ebmlite, redis, hypothesis, kvs_parser._kvsparser"
        subprocess.run([str(clone / VENV / "bin" / "python"), "-c", tools], check=True)
        figures["test_install_after_demo"]["tools_import"] = True

    install = figures["demo_install"]
    print(f"\n`make demo` on a fresh clone: install {install['wall_s']:.1f} s wall ({install['cpu_s']:.1f} s CPU, "
          f"load {install['load1_before']:.1f} -> {install['load1_after']:.1f}), venv {install['venv_mb']:.0f} MB; "
          f"the demo {figures['demo_run']['wall_s']:.1f} s")
    if install["native_build"]:
        build = install["native_build"]
        print(f"C++ build: {build['span_s']:.1f} s wall, {build['sum_of_steps_s']:.1f} s of steps")
    if args.then_test:
        extra = figures["test_install_after_demo"]
        print(f"then `make test`'s install: {extra['wall_s']:.1f} s, venv {extra['venv_mb']:.0f} MB")
    print(f"wrote {write_json('demo_install', figures)}")
    if not args.keep:
        subprocess.run(["rm", "-rf", str(scratch)], check=True)


if __name__ == "__main__":
    sys.exit(main())
