"""`python -m bench`: run the benchmarks, write JSON + markdown figures and docs/benchmarks.md."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import BENCHMARKS
from bench.harness import REPO_ROOT, SCALES, run_benchmarks


def build_parser() -> argparse.ArgumentParser:
    """The bench command line."""
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time and peak memory of each benchmark at two scales, against a baseline "
        "measured in the same run. Figures, not assertions: a missed target does not fail the run.",
    )
    parser.add_argument(
        "--only",
        metavar="NAME",
        action="append",
        choices=names,
        help=f"run only this benchmark (repeatable; one of {', '.join(names)})",
    )
    parser.add_argument("--scale", choices=[*SCALES, "both"], default="both", help="default: both")
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "bench" / "results",
        help="folder for results.json and results.md (default: bench/results)",
    )
    parser.add_argument(
        "--docs",
        type=Path,
        default=REPO_ROOT / "docs" / "benchmarks.md",
        help="the markdown report to (re)write (default: docs/benchmarks.md)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not write the docs page")
    parser.add_argument("--work", type=Path, help="scratch folder for generated files (default: a temp dir)")
    parser.add_argument("--keep-work", action="store_true", help="keep the scratch folder afterwards")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best time is kept")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks; exit 1 if a case broke (a missed target is not a failure)."""
    args = build_parser().parse_args(argv)
    chosen = [b for b in BENCHMARKS if (b.name in args.only if args.only else b.default)]
    scales = list(SCALES) if args.scale == "both" else [args.scale]

    def say(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    records = run_benchmarks(
        chosen,
        scales,
        args.out,
        None if args.no_docs else args.docs,
        work_dir=args.work,
        repeat=args.repeat,
        keep_work=args.keep_work,
        progress=say,
        # Earlier rows of the other benchmarks stay on the docs page when only some are re-run.
        registry=[b for b in BENCHMARKS if b.documented or b in chosen],
    )
    say(f"results in {args.out / 'results.json'} and {args.out / 'results.md'}")
    if not args.no_docs:
        say(f"report in {args.docs}")
    return 1 if any(r["status"] != "ok" for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
