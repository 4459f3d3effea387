"""python3 -m qtzflow plot OUT.h5 [OUT2.h5 ...] [-o PNG] [--dpi N]: a PNG summary of each output
(qtzflow.plot.summary).  Bad input: a message naming the file or argument, exit code 2."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m qtzflow", description="qtzflow from the command line (Python side)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plot", help="a PNG summary of qtzflow outputs (run, optimize -o, spectrum -o)")
    p.add_argument("files", nargs="+", metavar="OUT.h5")
    p.add_argument("-o", "--output", help="the PNG to write (one input only; default: OUT.png beside OUT.h5)")
    p.add_argument("--dpi", type=int, default=100, help="resolution (default 100, in [20, 600])")
    args = parser.parse_args(argv)
    if args.output and len(args.files) > 1:
        parser.error("-o/--output: names one PNG, so it takes one input file (got %d)" % len(args.files))
    if not 20 <= args.dpi <= 600:
        parser.error(f"--dpi: {args.dpi}: must be in [20, 600]")
    from . import plot  # noqa: PLC0415 (matplotlib only here)

    for f in args.files:
        try:
            print(plot.summary(f, args.output, args.dpi))
        except (ValueError, OSError) as e:
            print(f"python3 -m qtzflow plot: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
