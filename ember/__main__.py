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
    import ember
    try:
        device = ember.device(args.device)
    except RuntimeError as e:
        parser.error(f"--device {args.device}: {e}")
    if device.type == "cuda" and not ember.cuda.is_available():
        parser.error(f"--device {args.device}: no CUDA device here (CUDA needs CuPy, "
                     "pip install 'ember[cuda]', and an NVIDIA GPU)")
    demo.train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
