"""Bodies of `audotics` sub-commands too long for cli.py; cli.py wires them."""
