"""Extras per layer: a plain install (parser + GetMedia client) works without PyAV, pydantic or
prometheus_client; a layer whose extra is missing raises an ImportError naming the extra; `kvs-parser
--help` imports none of the heavy dependencies.

Each case runs in a fresh interpreter. A package is made absent by a `sys.modules[name] = None` entry,
which makes every `import name` in that process fail as it would were the package not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "kvs" / "output_get_media.mkv"
HEAVY = ("av", "numpy", "pydantic", "yaml", "prometheus_client")


def run_python(code: str, absent: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in absent)
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120)


def test_help_imports_no_pyav_boto3_or_pydantic() -> None:
    result = run_python("""
        import contextlib, io, json
        from kvs_parser.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main(["--help"])
        loaded = sorted(name for name in ("av", "boto3", "botocore", "pydantic", "numpy", "yaml")
                        if name in sys.modules)
        print(json.dumps({"help": out.getvalue(), "loaded": loaded}))
    """)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["loaded"] == []
    for command in ("demo", "inspect", "emulate", "run", "frames", "audio", "pipe"):
        assert command in report["help"]


def test_a_command_help_imports_only_that_command() -> None:
    result = run_python("""
        import contextlib, io
        from kvs_parser.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main(["inspect", "--help"])
        assert "--frames" in out.getvalue(), out.getvalue()
        print(sorted(name for name in ("av", "boto3", "pydantic") if name in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_plain_install_parses_saves_and_pipes_without_the_extras(tmp_path: Path) -> None:
    result = run_python(f"""
        import kvs_parser, kvs_parser.getmedia, kvs_parser.mkv, kvs_parser.pipe, kvs_parser.sampling
        from kvs_parser.save import save_fragments
        data = open({str(FIXTURE)!r}, "rb").read()
        frames = list(kvs_parser.iter_frames(data))
        written = save_fragments(data, {str(tmp_path / "saved.mkv")!r})
        print(len(frames), len(written), sorted(name for name in {HEAVY!r} if sys.modules.get(name) is not None))
    """, absent=HEAVY)
    assert result.returncode == 0, result.stderr
    frames, files, loaded = result.stdout.split(" ", 2)
    assert int(frames) > 0 and int(files) > 0 and loaded.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "absent", "extra"),
    [
        ("kvs_parser.source", ("av",), "decode"),
        ("kvs_parser.audio", ("av",), "decode"),
        ("kvs_parser.decode._pyav_backend", ("av",), "decode"),
        ("kvs_parser.config", ("pydantic",), "app"),
        ("kvs_parser.metrics", ("prometheus_client",), "app"),
        ("kvs_parser.emulator", ("av",), "emulator"),
    ],
)
def test_a_missing_extra_is_an_import_error_naming_it(module: str, absent: tuple[str, ...], extra: str) -> None:
    result = run_python(f"""
        try:
            import {module}
        except ImportError as error:
            print(type(error).__name__, error.name, str(error))
        else:
            print("imported")
    """, absent=absent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"ImportError {absent[0]} "), result.stdout
    assert f"pip install 'kvs-parser-py[{extra}]'" in result.stdout
