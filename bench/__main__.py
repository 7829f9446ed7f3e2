"""Run the benchmarks: ``python -m bench [NAME ...] [--quick]``; all of them by default."""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = ("core", "enrich", "links")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    failures = 0
    for name in args.names or BENCHMARKS:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            print(f"== {name}: not written yet", flush=True)
            continue
        print(f"== {name}", flush=True)
        failures += module.run(quick=args.quick)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
