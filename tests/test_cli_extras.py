"""Every `kvs-parser` command checks the extra it needs before anything else: on a plain install (the
package and boto3, no PyAV, pydantic or prometheus_client) a command that needs an extra exits 2 with one
line naming the `pip install` to run, `--help` included, and the commands that need none run.

The plain install is real: a fresh venv holding the package (with the extension this checkout built) and
boto3 with its dependencies, which is what `pip install kvs-parser-py` puts there, and nothing else."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Dict, List, Set

import pytest

import kvs_parser

pytestmark = pytest.mark.timeout(120)

# command line -> the extra its one line must name
NEEDS = {
    ("demo",): "emulator",
    ("demo", "--help"): "emulator",
    ("emulate", "--live", "cam"): "emulator",
    ("run", "--config", "cameras.yaml"): "app",
    ("run", "--help"): "app",
    ("frames", "cam", "--out", "frames"): "decode",
    ("audio", "call", "call.wav"): "decode",
}


def _distributions(name: str, found: Set[str]) -> None:
    """`name` and every distribution it requires (extras left out), by normalised name, into `found`."""
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in found:
        return
    found.add(key)
    for requirement in importlib.metadata.requires(name) or ():
        if "extra ==" in requirement:
            continue
        _distributions(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0], found)


def _top_level_paths(distribution: str) -> Set[Path]:
    """The top-level files and directories a distribution installed (its dist-info included)."""
    dist = importlib.metadata.distribution(distribution)
    tops = set()
    for file in dist.files or ():
        if file.parts[0] in ("..", "__pycache__") or file.parts[0].endswith(".pth"):
            continue
        tops.add(Path(str(dist.locate_file(file.parts[0]))))
    return tops


@pytest.fixture(scope="module")
def plain_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plain-install")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # The package as a wheel installs it: its Python files and the extension built from this checkout.
    extension = importlib.util.find_spec("kvs_parser._kvsparser")
    assert extension is not None and extension.origin is not None
    shutil.copytree(Path(kvs_parser.__file__).parent, site / "kvs_parser",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copy2(extension.origin, site / "kvs_parser")
    # Its one dependency, boto3, with everything boto3 requires.
    closure: Set[str] = set()
    _distributions("boto3", closure)
    for distribution in sorted(closure):
        for path in _top_level_paths(distribution):
            (site / path.name).symlink_to(path)
    return python


def kvs_parser_in(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    return subprocess.run([str(python), "-m", "kvs_parser", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60, check=False)


def test_the_plain_install_has_no_extra(plain_python: Path, tmp_path: Path) -> None:
    probe = ("import importlib.util as u, json; "
             "print(json.dumps({m: u.find_spec(m) is not None for m in "
             "('boto3', 'kvs_parser', 'av', 'numpy', 'pydantic', 'yaml', 'prometheus_client')}))")
    found = subprocess.run([str(plain_python), "-c", probe], capture_output=True, text=True, check=True,
                           cwd=tmp_path).stdout
    assert found.strip() == ('{"boto3": true, "kvs_parser": true, "av": false, "numpy": false, '
                             '"pydantic": false, "yaml": false, "prometheus_client": false}')


@pytest.mark.parametrize("command", list(NEEDS), ids=" ".join)
def test_a_command_whose_extra_is_missing_says_so_in_one_line(plain_python: Path, tmp_path: Path,
                                                              command: tuple) -> None:
    (tmp_path / "cameras.yaml").write_text("cameras: []\n")
    result = kvs_parser_in(plain_python, tmp_path, *command)
    extra = NEEDS[command]
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"kvs-parser {command[0]}: ")
    assert f'pip install "kvs-parser-py[{extra}]"' in lines[0]
    assert not (tmp_path / "frames").exists() and not (tmp_path / "call.wav").exists()  # nothing was run


def test_the_commands_of_a_plain_install_run(plain_python: Path, tmp_path: Path, fixtures: Path) -> None:
    capture = fixtures / "kvs" / "output_get_media.mkv"
    inspected = kvs_parser_in(plain_python, tmp_path, "inspect", str(capture))
    assert inspected.returncode == 0, inspected.stderr
    assert "fragment(s)" in inspected.stdout
    piped = subprocess.run([str(plain_python), "-m", "kvs_parser", "pipe", str(capture), "--max-frames", "3"],
                           capture_output=True, cwd=tmp_path, timeout=60, check=False)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.startswith(b"\x1a\x45\xdf\xa3")  # the EBML header of the MKV written to stdout
    helped = kvs_parser_in(plain_python, tmp_path, "--help")
    assert helped.returncode == 0 and "demo" in helped.stdout


def _one_line_without(absent: List[str], command: List[str]) -> Dict[str, object]:
    """`kvs-parser COMMAND` in this environment with `absent` modules made unimportable."""
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in absent)
    code = prelude + f"from kvs_parser.cli import main\nsys.exit(main({command!r}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return {"code": result.returncode, "lines": result.stderr.splitlines()}


def test_an_install_with_decode_but_not_app_names_app_for_run() -> None:
    outcome = _one_line_without(["pydantic"], ["run", "--config", "cameras.yaml"])
    assert outcome["code"] == 2
    assert outcome["lines"] == ['kvs-parser run: needs the [app] extra (pydantic not installed): '
                                'pip install "kvs-parser-py[app]"']


def test_demo_runs_with_the_emulator_extra_alone(tmp_path: Path) -> None:
    """What `COMMAND_EXTRAS` says demo needs is all it needs: no pydantic, PyYAML or prometheus_client."""
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n"
                                       for name in ("pydantic", "yaml", "prometheus_client", "ray", "redis"))
    code = prelude + ("from kvs_parser.cli import main\n"
                      "sys.exit(main(['demo', '--seconds', '2', '--size', '160x96', '--snapshots', '1', "
                      f"'--out', {str(tmp_path / 'out')!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "latency_summary.json").is_file()
