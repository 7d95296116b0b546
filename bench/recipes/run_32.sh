#!/usr/bin/env bash
# #32's long trainings one after another, each resuming where it stopped: the ranking-fidelity
# searches first (uniform, then sandwich, which takes the uniform run's stand-alone trainings: the
# supernet's measured tau is what the rest waits on), then the baselines' learning curves. Hours on
# a CPU. From the repository's root, in the background:
#   setsid nohup bash bench/recipes/run_32.sh > runs/run_32.log 2>&1 < /dev/null & echo $! > runs/run_32.pid
# Pause and resume it with kill -STOP / -CONT -- -"$(cat runs/run_32.pid)" (its process group).
set -euo pipefail
search=${SRKIT_SEARCH:-.venv/bin/srkit-search}
"$search" spos @bench/recipes/fidelity_x4_uniform.args
"$search" spos @bench/recipes/fidelity_x4_sandwich.args
"$search" curves @bench/recipes/curves_x4.args
