"""``python -m lightcost``: the same as the ``lightcost`` command."""

from lightcost.cli.main import main

main()
