#!/usr/bin/env bash
# #32's long trainings one after another, each resuming where it stopped: the ranking-fidelity
# searches first (uniform, then sandwich, which takes the uniform run's stand-alone trainings: the
# supernet's measured tau is what the rest waits on), then the baselines' learning curves. Hours on
# a CPU. From the repository's root, in the background:
#   setsid nohup bash bench/recipes/run_32.sh > runs/run_32.log 2>&1 < /dev/null & echo $! > runs/run_32.pid
# Pause and resume it with kill -STOP / -CONT -- -"$(cat runs/run_32.pid)" (its process group);
# stop it with kill -TERM -- -PGID: the training under way writes latest.pt at its step, and a
# restart goes on from there.
set -euo pipefail
search=${SRKIT_SEARCH:-.venv/bin/srkit-search}
python=${SRKIT_PYTHON:-.venv/bin/python}
uniform=bench/results/search/fidelity_x4_uniform
# on a machine other than the one it times on, the uniform run trains what needs no timing (its
# supernet and fidelity sample), writes fidelity.json, then refuses to time: the queue goes on
"$search" spos @bench/recipes/fidelity_x4_uniform.args || echo "run_32: the uniform run stopped (exit $?)"
# the sandwich run takes the uniform run's 24 stand-alone trainings: all of them first, or it trains its own
"$python" -c "import json, sys; f = json.load(open('$uniform/fidelity.json')); sys.exit(not all(r['n'] == 12 for r in f))" \
  || { echo "run_32: $uniform/fidelity.json lacks its 12 members' trainings"; exit 1; }
"$search" spos @bench/recipes/fidelity_x4_sandwich.args
"$search" curves @bench/recipes/curves_x4.args
