"""The ``anfang`` command line: one small module per subcommand, wired together in ``main``."""
