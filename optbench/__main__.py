"""``python -m optbench`` is the ``optbench`` command."""

from optbench.cli import main

main()
