"""Triton kernels of srkit, installed as ``srkit.kernels``.

One file per op, each holding its Triton kernels and a launcher that writes into a caller-given
output. Importing this package imports Triton; on a machine without a GPU the kernels run only
under ``TRITON_INTERPRET=1`` (set before the first import).
"""
