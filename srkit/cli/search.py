"""``srkit-search``: latency-aware NAS (issue #7). Not implemented yet; it says so."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("srkit-search is not implemented yet (it needs the model zoo, training and srkit-bench).", file=sys.stderr)
    return 2
