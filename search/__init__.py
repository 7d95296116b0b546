"""srkit.search: latency-aware NAS and hyper-parameter tuning (``srkit-search``).

Not implemented yet: it stands on the model zoo, the training pipeline and ``srkit-bench``.
"""
