"""Speed benchmarks (``make bench``): ratios measured side by side, printed, never asserted."""
