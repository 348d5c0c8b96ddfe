# The README's two newcomer commands, each complete on a fresh clone:
#   make demo   creates .venv, installs the package with what the demo needs (the [app,emulator] extras,
#               building the C++ core), runs `kvs-parser demo`
#   make test   creates .venv, installs the whole stack (.[test]: every extra, Ray, the test tools; and the
#               benchmarks' requirements), the servers the tests start (redis-server, via apt-get), then the suite
# Both use .venv; a marker per install says what is in it, so `make test` after `make demo` adds the rest and
# `make demo` after `make test` installs nothing. Each install is redone when pyproject.toml, the benchmarks'
# requirements (full install only) or the C++ sources change.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_INSTALLED := $(VENV)/.installed-demo
NATIVE_SOURCES := CMakeLists.txt $(wildcard cpp/src/*.cc cpp/src/*.h cpp/include/kvs_parser/*.h cpp/bindings/*.cc cpp/bindings/*.h)

.PHONY: install demo test

install: $(INSTALLED)

# The full stack also holds everything the demo needs: it marks the demo's install as done too.
$(INSTALLED): pyproject.toml bench/requirements.txt $(NATIVE_SOURCES)
	bash scripts/system_packages.sh  # first: the [test] extra's PyGObject compiles against Debian's headers
	bash scripts/install.sh $(PYTHON) $(VENV) test -r bench/requirements.txt
	touch $(INSTALLED) $(DEMO_INSTALLED)

# scripts/install.sh creates the venv and builds the C++ core while a second pip installs the dependencies.
$(DEMO_INSTALLED): pyproject.toml $(NATIVE_SOURCES)
	bash scripts/install.sh $(PYTHON) $(VENV) app,emulator
	touch $(DEMO_INSTALLED)

demo: $(DEMO_INSTALLED)
	$(BIN)/kvs-parser demo

test: $(INSTALLED)
	bash scripts/system_packages.sh
	$(BIN)/python -m pytest
