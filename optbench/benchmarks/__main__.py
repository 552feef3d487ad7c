"""``python -m optbench.benchmarks``: run every benchmark module and print its report."""

from optbench.benchmarks import engine, sweep

if __name__ == "__main__":
    engine.main()
    print()
    sweep.main()
