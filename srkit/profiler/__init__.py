"""The measurements behind ``srkit-bench`` (and the latency the search trades against).

:mod:`.timing` (how one thing is timed), :mod:`.device` (fingerprint and measured peaks),
:mod:`.cases` and :mod:`.opbench` (the ops), :mod:`.modelbench` (whole models and their layers),
:mod:`.lut` (the latency table), :mod:`.report` (tables, JSON, CSV, plots).
"""
