"""``python -m retrieval``: the command line of :mod:`retrieval.app.cli`."""

import sys

from retrieval.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
