"""Speed benchmarks: ratios measured side by side in one process, printed, never asserted.

Each benchmark compares optbench's general engine against a hand-fused numba loop written
in the benchmark itself, doing the same arithmetic, so the ratio says what the generality
(one engine for every optimizer and problem) costs on this machine today.
"""
