"""``srkit-bench``: the latency profiler (issue #5). Until it lands, the op benchmarks are the
scripts in ``bench/`` of the source tree; this entry point says so instead of pretending."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("srkit-bench is not implemented yet; run the op benchmarks with `python bench/run_all.py` "
          "from the source tree.", file=sys.stderr)
    return 2
