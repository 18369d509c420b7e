"""``python -m audotics``: the same command line as the ``audotics`` script."""

from audotics.cli import main

main()
