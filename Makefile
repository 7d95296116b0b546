# The README's two commands: `make demo` (set up, then the main job on the embedded photos) and
# `make test` (set up, then the test suite). Both create the environment from nothing.
PYTHON ?= python3.11
VENV ?= .venv
# Pinned so CPU machines take the CPU build they carry (an unpinned torch pulls GBs of CUDA wheels).
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.srkit-installed
SOURCES := pyproject.toml setup.py $(shell find csrc -type f 2>/dev/null)

.PHONY: env demo test test-distributed lint bench gate gpu-check clean

$(STAMP): $(SOURCES)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "env 1/2: torch (CPU build) and the build tools (about 1 minute)"
	$(PY) -m pip install -q --disable-pip-version-check "$(TORCH_SPEC)" "setuptools>=69" wheel "pybind11>=2.12" ninja
	@echo "env 2/2: srkit, its dependencies, and compiling srkit._C (about 4 minutes on 2 cores; pip is quiet meanwhile)"
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation -e ".[test,onnx,video]"
	@echo "env: ready"
	touch $(STAMP)

env: $(STAMP)

# the official IMDN x4 weights when ../shared has them, else an ESPCN trained here for 2 minutes
DEMO_WEIGHTS ?= ../shared/data/weights/imdn_x4.pth
demo: env
	$(VENV)/bin/srkit info
	$(VENV)/bin/srkit models
	rm -rf runs/demo
	$(VENV)/bin/srkit eval --model bicubic --data skimage --scale 4 --out runs/demo
	if [ -f $(DEMO_WEIGHTS) ]; then echo "demo: the official weights $(DEMO_WEIGHTS)"; \
	  $(VENV)/bin/srkit compare --models bicubic IMDN=$(DEMO_WEIGHTS) --data skimage --scale 4 --out runs/demo; \
	else echo "demo: no official weights at $(DEMO_WEIGHTS): training ESPCN x4 for 2 minutes on the embedded photos"; \
	  $(VENV)/bin/srkit train --model espcn --scale 4 --data skimage --max-minutes 2 --out runs/demo/espcn && \
	  $(VENV)/bin/srkit compare --models bicubic ESPCN=runs/demo/espcn/model.safetensors --data skimage --scale 4 --out runs/demo; fi
	@echo "demo: the crops beside bicubic and the original are in runs/demo/compare_skimage_x4.png"
	$(VENV)/bin/srkit-bench --out runs/demo model --input 360p --variants eager srkit ort --reps 5 --no-breakdown \
	  $$(if [ -f $(DEMO_WEIGHTS) ]; then echo $(DEMO_WEIGHTS); else echo runs/demo/espcn/model.safetensors; fi)
	$(VENV)/bin/srkit-bench --out runs/demo
	$(VENV)/bin/srkit-search --quick --out runs/demo/search
	$(PY) -m srkit.demo runs/demo
	@echo "demo: one figure (crops with PSNR, latency by runtime, the search's front and verdict): runs/demo/demo.png"

test: env lint
	$(PY) -m pytest -q -m "not distributed"

# the tests that start several processes or workers (torchrun ranks and nodes, NNI trials, two SSH
# workers on 127.0.0.1): about 5 minutes more; .ci/run runs them after make test
test-distributed: env
	$(PY) -m pytest -q -m distributed

# ruff's checks and format (configured in pyproject.toml); make test and CI run it first. It sets up
# the environment only where ruff is missing: a reinstall rebuilds srkit/_C in place, under any
# training that has it loaded
lint:
	test -x $(VENV)/bin/ruff || $(MAKE) env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: env
	$(PY) bench/run_all.py --out bench/results

# every Triton kernel compiled for sm_80/sm_90 and its binaries checked (no GPU needed; tests run it too)
gate: env
	env -u TRITON_INTERPRET $(PY) -m srkit.profiler.kernel_gate --json runs/kernel_gate.json

# on a machine with a GPU and its own torch/triton (no venv): bash bench/gpu_check.sh
gpu-check:
	bash bench/gpu_check.sh

clean:
	rm -rf $(VENV) build *.egg-info srkit/_C*.so runs
