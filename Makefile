# Two entry points for a fresh Debian machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SYSTEM_PACKAGES := python3-venv fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 gettext
HOST ?= 127.0.0.1:8000

.PHONY: run test install system-packages python-packages messages db demo lint constraints

## Install everything, migrate, load the demo data and serve on http://127.0.0.1:8000
run: install db demo
	$(PY) manage.py runserver $(HOST)

## Install everything, then lint and run the whole test suite
test: install lint
	$(PY) -m pytest -n 2 --dist loadfile

install: system-packages python-packages messages

system-packages:
	@missing=""; \
	for package in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	else echo "Missing system packages:$$missing"; \
		echo "Install them as root: apt-get install$$missing"; exit 1; fi; \
	echo "Installing system packages:$$missing"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing

python-packages: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]" -c constraints.txt
	@touch $@

messages: python-packages
	$(PY) manage.py compilemessages --locale zh_Hans --ignore '.venv' --ignore 'var' -v 0

db: python-packages
	$(PY) manage.py migrate --no-input -v 0

demo: db
	$(PY) manage.py seed_demo && $(PY) manage.py seed_catalog_demo
	$(PY) manage.py search_index update --no-progress
	$(PY) manage.py seed_matching_demo && $(PY) manage.py seed_orders_demo
	$(PY) manage.py seed_campaign_demo
	$(PY) manage.py seed_assessments_demo

lint: python-packages
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run -v 0

## Refresh constraints.txt from the current virtual environment
constraints:
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt
