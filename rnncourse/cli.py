"""The ``rnncourse`` command.

Each sub-command lives in the module that owns its subject; the module provides
``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported only when their
sub-command runs, so ``rnncourse --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
COMMANDS = {
    "info": ("rnncourse.info", "show the torch version, device, profile and data folders"),
    "download": ("rnncourse.data.download_command", "download a dataset into the cache (imdb, shakespeare, fra-eng, all)"),
    "check": ("rnncourse.grading.check", "self-check an exercise notebook against its visible tests"),
    "grade": ("rnncourse.grading.grade_command", "autograde a class's submissions in a sandbox"),
    "serve": ("rnncourse.deploy.serve", "serve saved models over HTTP (sentiment prediction, streaming generation)"),
}


def _parser(command: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnncourse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    command = command if command in COMMANDS else None
    args = _parser(command).parse_args(argv)
    if args.command is None:
        _parser(None).print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)
    except BrokenPipeError:  # `rnncourse info | head`: the reader went away, nothing is wrong
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
