"""The command line (``snp-triage``): parser, command handlers, the rules subcommands."""
from .main import main

__all__ = ["main"]
