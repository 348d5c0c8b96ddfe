"""`python -m kvs_parser` runs the `kvs-parser` command."""

import sys

from .cli import main

sys.exit(main())
