#!/usr/bin/env python3
"""atheris driver for the binding harness in tests/test_binding_fuzz.py (`exercise`).

    pip install atheris
    python fuzz/binding_fuzzer.py -max_total_time=600 fuzz/out/binding_corpus

Inputs are 16 control bytes (what each callback does, how the stream is chunked) and a stream.
Coverage comes from the Python side (harness and kvs_parser's Python modules); the C++ core is
covered by stream_parser_fuzzer. Seeds: written on first use from the test's stream generator.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import atheris  # noqa: E402

with atheris.instrument_imports():
    import test_binding_fuzz


def write_seeds(corpus: Path, count: int = 64) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return
    rng = random.Random(5)
    for k in range(count):
        (corpus / f"seed-{k:03d}").write_bytes(test_binding_fuzz.random_input(rng))


def main() -> None:
    corpora = [Path(arg) for arg in sys.argv[1:] if not arg.startswith("-")]
    for corpus in corpora[:1]:
        if not corpus.is_file():
            write_seeds(corpus)
    atheris.Setup(sys.argv, test_binding_fuzz.exercise)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
