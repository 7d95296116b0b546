"""srkit.search: latency-aware architecture search (``srkit-search``).

:mod:`.space` (the lightweight space over srkit's blocks), :mod:`.supernet` (SPOS weight sharing),
:mod:`.evolution` (evolution under a latency budget or for a Pareto front), :mod:`.latency`
(measured or from a ``srkit-bench lut`` table), :mod:`.runlog` (the append-only log), :mod:`.report`
(front, plot, genotypes), :mod:`.spos` (the run end to end).
"""
