"""Command-line glue of ``python -m core``: one module per group of subcommands.

Each module defines ``add_cli(subparsers)`` registering its subcommands (``set_defaults(func=
handler)``); a handler parses nothing itself, calls library functions of ``core`` and prints.
The maths modules print nothing. ``core.cli`` builds the parser from these modules.
"""
