"""What a benchmark reports: the machine and its load, and the JSON / PNG outputs under bench/results/."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, Optional

import av
import numpy as np

BENCH = Path(__file__).resolve().parent
RESULTS = Path(os.environ.get("KVS_BENCH_RESULTS", BENCH / "results"))  # the smoke test writes elsewhere

def machine() -> Dict[str, Any]:
    """What the figures were measured on, including the load at the time."""
    load1, load5, load15 = os.getloadavg()
    return {"cpus": os.cpu_count(), "loadavg_1_5_15": [load1, load5, load15], "python": sys.version.split()[0],
            "pyav": av.__version__, "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def load_line() -> str:
    load = os.getloadavg()
    return f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"


def write_json(name: str, figures: Any, path: Optional[Path] = None) -> Path:
    path = path or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), "figures": figures}, indent=1, default=_plain) + "\n")
    return path


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON: {type(value)}")


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_plot(fig: Any, name: str, path: Optional[Path] = None) -> Path:
    path = path or RESULTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    pyplot().close(fig)
    return path
