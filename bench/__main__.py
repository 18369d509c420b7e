"""Run benchmarks: ``python -m bench [name...] [options]``.

Every module in this package that defines ``main(argv: list[str]) -> int`` is
a benchmark named after its module. Leading arguments that name benchmarks
select them (none selects all); the remaining arguments are passed to each.
``python -m bench --list`` names them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path

Benchmark = Callable[[list[str]], int]


def discover() -> dict[str, Benchmark]:
    found: dict[str, Benchmark] = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        entry = getattr(module, "main", None)
        if callable(entry):
            found[info.name] = entry
    return found


def main(argv: list[str]) -> int:
    benchmarks = discover()
    if argv[:1] == ["--list"]:
        for name in sorted(benchmarks):
            print(name)
        return 0
    names: list[str] = []
    while argv and not argv[0].startswith("-"):
        if argv[0] not in benchmarks:
            print(f"unknown benchmark {argv[0]!r}; known: {', '.join(sorted(benchmarks))}")
            return 2
        names.append(argv.pop(0))
    status = 0
    for name in names or sorted(benchmarks):
        print(f"== {name}", flush=True)
        status = max(status, benchmarks[name](list(argv)))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
