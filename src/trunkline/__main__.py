"""``python -m trunkline ...`` is the ``trunkline`` command."""

from trunkline.cmdline import luigi_run as luigi_run
from trunkline.cmdline import trunkline_run

if __name__ == "__main__":
    trunkline_run()
