"""``ember`` on the command line (``python -m ember`` or the ``ember`` console script).

    ember demo [--epochs N] [--batch-size N] [--lr LR] [--device DEV] [--out DIR] [--seed N]
"""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ember", description="Ember: PyTorch's programming model on NumPy.")
    commands = parser.add_subparsers(dest="command", metavar="command")
    from . import demo
    demo.build_parser(commands.add_parser(
        "demo", help="train a small CNN on the bundled UCI digits (the main job)", prog="ember demo"))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    demo.train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
