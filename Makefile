# The README's two newcomer commands, each complete on a fresh clone:
#   make demo   creates .venv, installs the package with what the demo needs (the [app,emulator] extras,
#               building the C++ core), runs `kvs-parser demo`
#   make test   creates .venv, installs the whole stack (.[test]: every extra, Ray, the test tools; and the
#               benchmarks' requirements), the servers the tests start (redis-server, via apt-get), then the suite
# Both use .venv; a marker per install says what is in it. The full install is the demo's (the package,
# its C++ core built once) and then the rest, so `make test` after `make demo` adds the rest without building
# again and `make demo` after `make test` installs nothing. The demo's install is redone when pyproject.toml
# or the C++ sources change, the rest then too, and the rest alone when the benchmarks' requirements change.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_INSTALLED := $(VENV)/.installed-demo
NATIVE_SOURCES := CMakeLists.txt $(wildcard cpp/src/*.cc cpp/src/*.h cpp/include/kvs_parser/*.h cpp/bindings/*.cc cpp/bindings/*.h)

.PHONY: install demo test

install: $(INSTALLED)

# scripts/install.sh creates the venv and builds the C++ core while a second pip installs the dependencies.
$(DEMO_INSTALLED): pyproject.toml $(NATIVE_SOURCES)
	bash scripts/install.sh $(PYTHON) $(VENV) app,emulator
	touch $(DEMO_INSTALLED)

$(INSTALLED): $(DEMO_INSTALLED) bench/requirements.txt
	bash scripts/system_packages.sh  # first: the [test] extra's PyGObject compiles against Debian's headers
	bash scripts/install.sh --dependencies-only $(PYTHON) $(VENV) test -r bench/requirements.txt
	touch $(INSTALLED)

demo: $(DEMO_INSTALLED)
	$(BIN)/kvs-parser demo

test: $(INSTALLED)
	bash scripts/system_packages.sh
	$(BIN)/python -m pytest
