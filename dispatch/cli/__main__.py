"""``python -m dispatch.cli``: the ``dispatch`` console script without the installed wrapper."""

from dispatch.cli import main

main()
