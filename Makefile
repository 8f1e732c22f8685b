# The two commands a newcomer needs: `make demo` (set up and run) and `make test` (set up and test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned to 2.13.0; point TORCH_INDEX at a CPU wheel index (e.g. PyTorch's /whl/cpu)
# where the default index would bring a CUDA build. Empty: the default index (this machine's disk).
TORCH_INDEX ?=
PG_URL ?= postgresql://127.0.0.1:5432/test
# Every package pinned (torch's CPU build included), made from pyproject.toml by `make lock`.
LOCK := requirements.lock

.PHONY: setup lock demo test test-sqlite test-postgres benchmark clean

# Installs exactly the locked versions, then the project itself (editable, no resolution).
$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(LOCK) $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@$(PY) -m pip check || { echo "$(LOCK) does not satisfy pyproject.toml: run 'make lock'"; exit 1; }
	touch $@

setup: $(VENV)/.installed

# Regenerate the lock after changing dependencies in pyproject.toml: keeps the current pins
# where they still fit (LOCK_FLAGS=--upgrade moves everything to the newest allowed).
# PIP_FIND_LINKS (this machine's local torch CPU wheel) or TORCH_INDEX supplies torch's CPU
# build, whose dependencies differ from the CUDA build's on the default index.
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --all-extras --python-version 3.11 \
		$(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS)) \
		$(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX) --index-strategy unsafe-best-match) \
		--custom-compile-command "make lock" $(LOCK_FLAGS) -o $(LOCK)

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
