"""Subcommands of `kvs-parser`, one module each (see `kvs_parser.cli`)."""
