"""srkit's command-line programs: ``srkit``, ``srkit-bench``, ``srkit-search``."""
