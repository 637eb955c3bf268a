"""``python -m kedirivms.sim [options]`` = ``kedirivms simulate [options]``."""

from __future__ import annotations

import sys

from kedirivms.cli import main

if __name__ == "__main__":
    main(["simulate", *sys.argv[1:]])
