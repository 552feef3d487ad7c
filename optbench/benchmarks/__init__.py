"""Speed benchmarks (``make bench``): ratios measured side by side, printed, never asserted.

Each benchmark compares optbench's general engine against a reference doing the same
arithmetic — a hand-fused numba loop written in the benchmark itself, plain NumPy, or PyTorch
where installed — so the ratio says what the generality costs on this machine today.
"""
