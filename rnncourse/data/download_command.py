"""``rnncourse download NAME``: fetch a dataset (or ``all``) into the cache from a shell.

An instructor runs ``rnncourse download all`` once before class; IMDB's 50,000 reviews are also
parsed then, rather than in class. The downloading itself is :mod:`rnncourse.data.download`.
"""

from __future__ import annotations

import argparse
import sys

from rnncourse.data.download import SOURCES, DataError, cache_dir, download, mirror_location
from rnncourse.data.errors import DATA_ENV, MIRROR_ENV
from rnncourse.data.imdb import prepare_imdb

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``rnncourse download``."""
    parser.add_argument("name", choices=[*SOURCES, "all"], help="the dataset to fetch, or all of them")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        f"{DATA_ENV}    cache folder (now: {cache_dir()})\n"
        f"{MIRROR_ENV}  folder or http(s):// base URL tried before the official addresses"
        f" (now: {mirror_location() or 'unset'})"
    )


def run(args: argparse.Namespace) -> int:
    """Fetch the named dataset(s) into the cache and print where each one is."""
    names = list(SOURCES) if args.name == "all" else [args.name]
    failed = 0
    for name in names:
        try:
            path = download(name, quiet=args.quiet)
            if name == "imdb":  # parse the 50,000 reviews now rather than in class
                prepare_imdb(path)
        except DataError as exc:
            print(f"rnncourse download {name}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{name}: {path}")
    return 1 if failed else 0
