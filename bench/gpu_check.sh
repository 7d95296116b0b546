#!/usr/bin/env bash
# The prepared one-call GPU check: on a machine with one NVIDIA GPU and only its preinstalled
# torch / triton / nvcc (no network), in the repository root:
#   1. report the GPU and the versions;
#   2. build srkit._C with its CUDA kernels (editable, no dependencies fetched, this GPU's arch only);
#   3. run the kernel tests, whose CUDA parametrisations (Triton compiled for the GPU, the CUDA C++
#      backend, PyTorch on CUDA; fp32 in IEEE and TF32 modes) exist only where a GPU does;
#   4. NCCL: two torchrun ranks equal one GPU with the whole batch (where there are two GPUs);
#   5. time and check every op, the models and training steps: bench/run_all.py --device cuda,
#      whose JSON record lands in OUT (default bench/results) as ops_<device>.json.
# Each step has its own time limit (150 + 120 + 60 + 210 s) so the whole stays within 9 minutes on an H100/H200.
#
#   bash bench/gpu_check.sh [--dry-run] [--out DIR]
#
# --dry-run (CI runs it on the CPU, so the script cannot rot): prints every command and checks that
# each can start here -- the files exist, the tests collect, run_all's options parse -- without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

DRY=0
OUT="${OUT:-bench/results}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --out) OUT="$2"; shift ;;
    *) echo "gpu_check.sh: unknown option $1 (use --dry-run, --out DIR)" >&2; exit 2 ;;
  esac
  shift
done
PY="${PYTHON:-python3}"
KERNEL_TESTS=(tests/test_pixel_shuffle.py tests/test_upsample_tail.py tests/test_psnr.py tests/test_ssim.py
  tests/test_psnr_ssim.py tests/test_channel_stats.py tests/test_channel_scale.py tests/test_attention_scale.py
  tests/test_cca.py tests/test_conv_epilogue.py tests/test_wide_pointwise.py tests/test_wdsr_a_fused.py
  tests/test_wdsr.py)

step() { echo; echo "== $1"; }
run() {  # run (or, dry, show) one command with a time limit in seconds
  local limit="$1"; shift
  echo "+ timeout $limit $*"
  if [ "$DRY" = 0 ]; then timeout "$limit" "$@"; fi
}

step "1/5 device and versions"
if [ "$DRY" = 0 ]; then
  nvidia-smi -L
  "$PY" -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__, torch.cuda.get_device_name(0))"
else
  echo "+ nvidia-smi -L; $PY -c 'import torch, triton; ...'"
fi

step "2/5 build srkit._C with CUDA"
ARCH="${TORCH_CUDA_ARCH_LIST:-}"
if [ -z "$ARCH" ] && [ "$DRY" = 0 ]; then
  ARCH="$("$PY" -c "import torch; print('%d.%d' % torch.cuda.get_device_capability(0))")"
fi
echo "+ export SRKIT_CUDA=1 TORCH_CUDA_ARCH_LIST=${ARCH:-<this GPU>} MAX_JOBS=$(nproc)"
if [ "$DRY" = 0 ]; then export SRKIT_CUDA=1 TORCH_CUDA_ARCH_LIST="$ARCH" MAX_JOBS="$(nproc)"; fi
run 150 "$PY" -m pip install -q --no-deps --no-build-isolation --disable-pip-version-check -e .
if [ "$DRY" = 0 ]; then
  "$PY" -c "import srkit.ops as o; from srkit.ops import dispatch; assert dispatch.extension().built_with_cuda(); print(o.available_backends('cuda'))"
fi

step "3/5 kernel tests on the GPU (Triton compiled, not interpreted)"
export TRITON_INTERPRET=0
if [ "$DRY" = 0 ]; then
  run 120 "$PY" -m pytest -q -x -p no:cacheprovider -k cuda "${KERNEL_TESTS[@]}"
else
  echo "+ timeout 120 $PY -m pytest -q -x -k cuda ${KERNEL_TESTS[*]}"
  for t in "${KERNEL_TESTS[@]}"; do [ -f "$t" ] || { echo "gpu_check.sh: missing $t" >&2; exit 1; }; done
  TRITON_INTERPRET=1 "$PY" -m pytest -q --collect-only -p no:cacheprovider "${KERNEL_TESTS[@]}" > /dev/null
  echo "  (the tests collect)"
fi

step "4/5 NCCL: two ranks under torchrun (needs two GPUs; on one, the test says so and skips)"
if [ "$DRY" = 0 ]; then
  run 60 "$PY" -m pytest -q -rs -p no:cacheprovider tests/test_train_ddp.py -k nccl
else
  echo "+ timeout 60 $PY -m pytest -q -rs tests/test_train_ddp.py -k nccl"
  # read the whole listing before matching: grep -q would close the pipe early, and pipefail would call that a failure
  nccl=$(TRITON_INTERPRET=1 "$PY" -m pytest -q --collect-only -p no:cacheprovider tests/test_train_ddp.py -k nccl)
  [[ "$nccl" == *test_two_gpus_under_nccl* ]] || { echo "gpu_check.sh: the NCCL test is not collected" >&2; exit 1; }
  echo "  (the NCCL test collects)"
fi

step "5/5 ops, models and training steps: bench/run_all.py --device cuda"
mkdir -p "$OUT"
run 210 "$PY" bench/run_all.py --device cuda --out "$OUT"
if [ "$DRY" = 1 ]; then
  "$PY" bench/run_all.py --help > /dev/null
  echo "  (run_all.py's options parse)"
  echo; echo "dry run: every step can start"
fi
