# OS Downloads: build, test, demo and packaging. GNU make.
#
#   make demo      QGIS with the plugin, pointed at the local replica (Xvfb + screenshots when headless)
#   make test      every test: unit tests without QGIS, then pytest-qgis tests offscreen
#   make test-matrix  the whole suite + headless demo on QGIS 3.22 (here), 3.40, 3.44 (chroots; root)
#   make lint      ruff check + ruff format --check      make format   apply ruff's fixes
#   make install   copy the plugin into your QGIS profile (LINK=1: symlink; PROFILE_DIR=...)
#   make package   dist/os_downloads-<version>.zip for plugins.qgis.org (DEV=1: a -dev.zip)
#   make replica   the local replica in the foreground      make bench   the benchmarks
#   make venv      just the set-up (apt packages, .venv, test tools)      make clean
#
# Works from any checkout folder name: the package name os_downloads comes from a
# link under .build/pythonpath, never from the folder's name.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
SYSTEM_PYTHON := /usr/bin/python3
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
BUILD := $(ROOT)/.build
PYTHONPATH_DIR := $(BUILD)/pythonpath
REQUIREMENTS := $(ROOT)/requirements/test.txt
REQUIREMENTS_STAMP := $(VENV)/.os_downloads-requirements
VERSION = $(shell sed -n 's/^version=//p' '$(ROOT)/metadata.txt')

# Debian/Ubuntu packages: QGIS and its Python bindings, GDAL for the replica's
# sample data, Xvfb and ImageMagick for the headless demo, PostgreSQL + PostGIS
# and psycopg2 for the PostGIS holdings (the tests start their own server):
# `postgresql` is the release's supported server (15 on bookworm, 17 on trixie),
# PostGIS is then the one built for it (postgresql-NN-postgis-3).
APT_PACKAGES := python3-qgis qgis qgis-providers python3-gdal python3-requests xvfb \
	postgresql python3-psycopg2 \
	python3-venv imagemagick gnupg curl unzip
# Only `make bench` needs these: aria2 (aria2c), a reference for one file over parallel ranges.
BENCH_APT_PACKAGES := aria2
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

PROFILE_DIR ?= $(HOME)/.local/share/QGIS/QGIS3/profiles/default
QGIS_TEST_ENV := QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=$(BUILD)/xdg-runtime

.PHONY: help venv apt-packages bench-apt-packages test test-unit test-qgis test-matrix lint format demo install package package-check \
	bench replica clean

help:
	@sed -n '3,10p' '$(ROOT)/Makefile' | sed 's/^# \{0,1\}//'

# ---------------------------------------------------------------- set-up

# $(call apt_install,PACKAGES): install those of PACKAGES that are missing.
define apt_install
	@missing=""; \
	for pkg in $(1); do \
		dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q 'install ok installed' \
			|| missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "==> installing apt packages:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
endef

# PostGIS is the one built for the installed PostgreSQL server (postgresql-NN-postgis-3).
apt-packages:
	$(call apt_install,$(APT_PACKAGES))
	@major="$$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)"; \
	postgis="postgresql-$$major-postgis-3"; \
	if [ -n "$$major" ] && ! dpkg-query -W -f='$${Status}' "$$postgis" 2>/dev/null \
			| grep -q 'install ok installed'; then \
		echo "==> installing $$postgis"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$$postgis" \
			|| { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
			     $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$$postgis"; }; \
	fi

bench-apt-packages:
	$(call apt_install,$(BENCH_APT_PACKAGES))

$(PY): | apt-packages
	@echo "==> creating .venv (with the system's QGIS, GDAL and numpy)"
	$(SYSTEM_PYTHON) -m venv --system-site-packages '$(VENV)'

# The constraints file pins every package Debian installed (numpy, requests,
# PyQt5 and the rest that QGIS uses) to its system version, so installing the
# test tools can never upgrade one of them (numpy 2 would break Debian's scipy).
$(REQUIREMENTS_STAMP): $(REQUIREMENTS) | $(PY)
	@echo "==> installing test tools into .venv"
	@mkdir -p '$(BUILD)'
	@'$(PY)' -m pip list --format=freeze --path /usr/lib/python3/dist-packages 2>/dev/null \
		| grep -viE '^(pip|setuptools|wheel)==' > '$(BUILD)/constraints.txt'
	'$(PY)' -m pip install --quiet -r '$(REQUIREMENTS)' -c '$(BUILD)/constraints.txt'
	@'$(PY)' -c 'import numpy, sys; sys.exit(0 if numpy.__file__.startswith("/usr/lib/") \
		else "numpy was installed into .venv: QGIS needs the system numpy")'
	@cp '$(REQUIREMENTS)' '$@'

venv: apt-packages $(PY) $(REQUIREMENTS_STAMP)
	@mkdir -p '$(PYTHONPATH_DIR)' '$(BUILD)/xdg-runtime'
	@chmod 700 '$(BUILD)/xdg-runtime'
	@ln -sfn ../.. '$(PYTHONPATH_DIR)/os_downloads'
	@site=$$('$(PY)' -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	echo '$(PYTHONPATH_DIR)' > "$$site/os_downloads_checkout.pth"
	@printf '#!/bin/sh\n# Runs the OS Downloads command line from this checkout.\nexec "%s" -m os_downloads "$$@"\n' \
		'$(PY)' > '$(VENV)/bin/os-downloads'
	@chmod 755 '$(VENV)/bin/os-downloads'

# ---------------------------------------------------------------- tests

# Both suites always run; the target fails if either failed.
test: venv
	@status=0; \
	$(MAKE) test-unit || status=1; \
	$(MAKE) test-qgis || status=1; \
	echo; \
	if [ $$status -eq 0 ]; then echo "==> all tests passed"; else echo "==> TESTS FAILED"; fi; \
	exit $$status

test-unit: venv
	@echo
	@echo "==> unit tests (no QGIS): pytest -p no:qgis tests/unit"
	cd '$(ROOT)' && '$(PY)' -m pytest -p no:qgis tests/unit -q

# pytest exits 5 when it collects nothing: accepted only while tests/qgis has no test files.
test-qgis: venv
	@echo
	@echo "==> QGIS tests (pytest-qgis, offscreen): pytest tests/qgis"
	@cd '$(ROOT)' && rc=0; $(QGIS_TEST_ENV) '$(PY)' -m pytest tests/qgis -q || rc=$$?; \
	if [ $$rc -eq 5 ] && ! find tests/qgis -name 'test_*.py' -o -name '*_test.py' | grep -q .; then \
		echo "(tests/qgis has no tests yet)"; rc=0; \
	fi; \
	exit $$rc

# The suite on every QGIS release we support: this machine's, then Debian trixie
# (3.40) and sid (3.44) in debootstrap chroots cached outside the checkout
# (OS_DOWNLOADS_MATRIX_CACHE). RELEASES="host trixie sid" picks some of them.
test-matrix:
	'$(ROOT)/scripts/test_matrix.sh' $(RELEASES)

lint: venv
	cd '$(ROOT)' && '$(PY)' -m ruff check . && '$(PY)' -m ruff format --check .

format: venv
	cd '$(ROOT)' && '$(PY)' -m ruff format . && '$(PY)' -m ruff check --fix .

# ---------------------------------------------------------------- run

# Starts the replica, then QGIS with a fresh profile under .build/demo-profile.
# Headless (no DISPLAY): Xvfb, scripts/demo.py drives the dock, screenshots are printed.
demo: venv
	cd '$(ROOT)' && '$(PY)' scripts/run_demo.py

replica: venv
	cd '$(ROOT)' && '$(PY)' -m os_downloads.replica serve

bench: venv bench-apt-packages
	@if [ -e '$(ROOT)/bench/__main__.py' ]; then \
		cd '$(ROOT)' && '$(PY)' -m os_downloads.bench; \
	else \
		echo "bench/ has no benchmarks yet (python -m os_downloads.bench is not there)"; \
	fi

# ---------------------------------------------------------------- ship

install:
	@'$(SYSTEM_PYTHON)' '$(ROOT)/scripts/package.py' install --dest '$(PROFILE_DIR)/python/plugins' \
		$(if $(LINK),--link) | sed 's/^/installed: /'
	@echo "Restart QGIS, then enable it in Plugins > Manage and Install Plugins > Installed."

# A release zip is refused while metadata.txt has placeholder contact details;
# DEV=1 builds dist/os_downloads-<version>-dev.zip anyway. package-check runs the
# plugins.qgis.org validator rules and security scan on the zip (tests do too).
package:
	@'$(SYSTEM_PYTHON)' '$(ROOT)/scripts/package.py' zip $(if $(DEV),--dev) \
		--out '$(ROOT)/dist/os_downloads-$(VERSION)$(if $(DEV),-dev).zip'

package-check: venv package
	cd '$(ROOT)' && '$(PY)' scripts/plugin_site_checks.py \
		'$(ROOT)/dist/os_downloads-$(VERSION)$(if $(DEV),-dev).zip'

clean:
	rm -rf '$(BUILD)' '$(ROOT)/dist' '$(ROOT)/.pytest_cache' '$(ROOT)/.ruff_cache'
	find '$(ROOT)' -name __pycache__ -type d -not -path '*/.venv/*' -prune -exec rm -rf {} +
