# The two commands a newcomer needs: `make demo` (set up and run) and `make test` (set up and test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned to 2.13.0; point TORCH_INDEX at a CPU wheel index (e.g. PyTorch's /whl/cpu)
# where the default index would bring a CUDA build. Empty: the default index (this machine's disk).
TORCH_INDEX ?=
PG_URL ?= postgresql://127.0.0.1:5432/test

.PHONY: setup demo test test-sqlite test-postgres benchmark clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/moderation demo

test-sqlite: setup
	$(PY) -m pytest -q

test-postgres: setup
	MODERATION_TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest -q -m "not browser"

test: test-sqlite test-postgres

benchmark: setup
	$(PY) benchmarks/scoring.py

clean:
	rm -rf $(VENV) instance .pytest_cache
