# The README's two newcomer commands, each complete on a fresh clone:
#   make demo   creates .venv, installs the package (building the C++ core), runs `kvs-parser demo`
#   make test   the same install, the servers the tests start (redis-server, via apt-get), then the suite
# The install is redone when pyproject.toml, the benchmarks' requirements or the C++ sources change.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NATIVE_SOURCES := CMakeLists.txt $(wildcard cpp/src/*.cc cpp/src/*.h cpp/include/kvs_parser/*.h cpp/bindings/*.cc cpp/bindings/*.h)

.PHONY: install demo test

install: $(INSTALLED)

$(INSTALLED): pyproject.toml bench/requirements.txt $(NATIVE_SOURCES)
	bash scripts/system_packages.sh  # first: the [test] extra's PyGObject compiles against Debian's headers
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -e ".[test]" -r bench/requirements.txt
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/kvs-parser demo

test: $(INSTALLED)
	bash scripts/system_packages.sh
	$(BIN)/python -m pytest
