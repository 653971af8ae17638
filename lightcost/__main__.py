"""``python -m lightcost`` and the ``lightcost`` command.

Ctrl-C is handled before anything else loads (:mod:`lightcost.cli.interrupt`):
``import lightcost`` imports nothing, so the handler is in place a millisecond
after Python starts, and an interrupt at any moment exits 130 without a traceback.
"""

from lightcost.cli.interrupt import install

install()


def main() -> None:
    """Run the command line (the console script's entry point)."""
    from lightcost.cli.main import main as run

    run()


if __name__ == "__main__":
    main()
