# The README's two commands: `make demo` (set up, then the main job on the embedded photos) and
# `make test` (set up, then the test suite). Both create the environment from nothing.
PYTHON ?= python3.11
VENV ?= .venv
# Pinned so CPU machines take the CPU build they carry (an unpinned torch pulls GBs of CUDA wheels).
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.srkit-installed
SOURCES := pyproject.toml setup.py $(shell find csrc -type f 2>/dev/null)

.PHONY: env demo test lint bench gate gpu-check search-cpu-x4 search-cpu-x4-first search-cpu-x4-wn search-cpu-x4-y search-cpu-x4-y-margin search-cpu-x4-y-rank search-cpu-x4-y-spread clean

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
	$(PY) -m pytest -q

# ruff's checks and format (configured in pyproject.toml); make test and CI run it first
lint: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: env
	$(PY) bench/run_all.py --out bench/results

# #16's search runs: x4 on T91+BSDS200 (../shared/data), latency at LR 180x320 on this machine, the
# front's picks and seven baselines retrained with one recipe and scored on Set5; resume where they stopped.
# search-cpu-x4-first is the first space (widths to 32, no input skip); search-cpu-x4 the one that followed it;
# search-cpu-x4-wn the third: every convolution weight-normalised (WDSR's training setup), up to 8 blocks;
# search-cpu-x4-y the fourth: every member on Y with WDSR's input normalisation, (x - mean) / 0.5, up to 8 blocks;
# search-cpu-x4-y-margin the fifth: the fourth's space; the front and the baselines timed again in three
# interleaved rounds before export, each export under 0.8 of its baseline's median there;
# search-cpu-x4-y-rank the sixth: the fifth's, members of no block admitted (head, body conv, tail: the
# wide-and-shallow corner), and under each budget the four best by the supernet trained stand-alone on the
# training images for the retraining's 1,000 iterations, the best on the held-out images exported;
# search-cpu-x4-y-spread the seventh: the sixth, with supernet PSNRs within 0.01 dB of a budget's best taken as a
# tie the supernet cannot break, the four trained spread over the tie's latencies.
DATASETS ?= ../shared/data/datasets
SEARCH_X4 = $(VENV)/bin/srkit-search spos --resume --data $(DATASETS)/T91 $(DATASETS)/BSDS200 --scale 4 \
  --min-blocks 1 --max-blocks 6 --iters 4000 --patch 96 --batch 16 --population 16 --topk 8 --generations 6 \
  --latency-input 180x320 --budgets-from-baselines --retrain-iters 1000 --retrain-baselines all \
  --benchmarks $(DATASETS)/Set5 --timing-rounds 5
search-cpu-x4-first: env
	$(SEARCH_X4) --out search/results/cpu_x4 --channels 16 24 32
search-cpu-x4: env
	$(SEARCH_X4) --out search/results/cpu_x4_skip --channels 16 24 32 48 --upsamplers direct direct+skip progressive+skip
search-cpu-x4-wn: env
	$(SEARCH_X4) --out search/results/cpu_x4_wn --channels 16 24 32 48 --upsamplers direct direct+skip progressive+skip \
	  --weight-norm --max-blocks 8
search-cpu-x4-y: env
	$(SEARCH_X4) --out search/results/cpu_x4_y --channels 16 24 32 48 --upsamplers direct direct+skip \
	  --max-blocks 8 --in-channels 1 --input-mean div2k --input-std 0.5
search-cpu-x4-y-margin: env
	$(SEARCH_X4) --out search/results/cpu_x4_y_margin --channels 16 24 32 48 --upsamplers direct direct+skip \
	  --max-blocks 8 --in-channels 1 --input-mean div2k --input-std 0.5 --budget-margin 0.8 --budget-rounds 3
search-cpu-x4-y-rank: env
	$(SEARCH_X4) --out search/results/cpu_x4_y_rank --channels 16 24 32 48 --upsamplers direct direct+skip \
	  --min-blocks 0 --max-blocks 8 --in-channels 1 --input-mean div2k --input-std 0.5 --budget-margin 0.8 \
	  --budget-rounds 3 --rank-top 4
search-cpu-x4-y-spread: env
	$(SEARCH_X4) --out search/results/cpu_x4_y_spread --channels 16 24 32 48 --upsamplers direct direct+skip \
	  --min-blocks 0 --max-blocks 8 --in-channels 1 --input-mean div2k --input-std 0.5 --budget-margin 0.8 \
	  --budget-rounds 3 --rank-top 4 --rank-tolerance 0.01

# every Triton kernel compiled for sm_80/sm_90 and its binaries checked (no GPU needed; tests run it too)
gate: env
	env -u TRITON_INTERPRET $(PY) -m srkit.profiler.kernel_gate --json runs/kernel_gate.json

# on a machine with a GPU and its own torch/triton (no venv): bash bench/gpu_check.sh
gpu-check:
	bash bench/gpu_check.sh

clean:
	rm -rf $(VENV) build *.egg-info srkit/_C*.so runs
