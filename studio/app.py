"""Command-line entry point: ``studio`` opens the window, ``studio train`` trains headless.

Imports are deferred to the branch that needs them, so ``studio --version`` and
``studio train --help`` answer at once, and the window can appear before TensorFlow loads.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from studio import __version__

COMMANDS = ("train", "summary", "devices", "export")


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="Training Studio: train neural networks without writing code.",
        epilog="Headless commands: 'studio train PROJECT.json --epochs N --output DIR' trains "
        "without a window; 'studio summary PROJECT.json' prints the layer table; 'studio "
        "devices [--json]' lists the CPU and GPUs; 'studio export RUN_OR_MODEL --format F "
        "--output PATH' exports a trained model (keras, savedmodel, tflite, onnx, weights, "
        "python, history) and verifies it. Add --help to any for details.",
    )
    parser.add_argument("--version", action="version", version=f"studio {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window (offscreen unless a display platform is set), "
                        "train the example project for one epoch, check the model and exit: "
                        "status 0 when the installation works")
    parser.add_argument("project", nargs="?", help="project file to open (default: the digits "
                        "CNN example)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in COMMANDS:
        from studio import cli

        return cli.run(args[0], args[1:])
    try:
        options = _gui_parser().parse_args(args)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if options.self_test:
        from studio.ui.self_test import run_self_test

        return run_self_test()
    from studio.ui.application import run_app

    return run_app(options.project)
