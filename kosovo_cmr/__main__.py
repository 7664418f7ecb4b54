"""``python -m kosovo_cmr`` runs the ``kcmr`` command."""

from kosovo_cmr.cli.main import main

if __name__ == "__main__":
    main()
