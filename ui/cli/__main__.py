"""``python -m madoguchi.ui.cli``: the ``madoguchi`` command."""

from madoguchi.ui.cli import main

main()
