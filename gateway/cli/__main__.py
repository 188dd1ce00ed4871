"""Lets ``python -m gateway.cli`` behave like the installed ``anfang`` script."""

import sys

from gateway.cli.main import main

sys.exit(main())
