"""The bundle's entry script: the same ``main`` as the ``studio`` console script."""

import multiprocessing
import sys

if __name__ == "__main__":
    # Trainings run in processes forked from multiprocessing's server, which a frozen app
    # starts by running itself with "-c ...": PyInstaller's hook diverts that here.
    multiprocessing.freeze_support()

    from studio.app import main

    sys.exit(main())
