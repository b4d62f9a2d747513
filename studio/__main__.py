"""``python -m studio``: the same entry point as the ``studio`` console script."""

import sys

from studio.app import main

if __name__ == "__main__":
    sys.exit(main())
