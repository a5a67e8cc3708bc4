"""Entry point: ``python -m bench [--quick] [--profile] [--sizes …] [--latencies …]``."""

import sys

from .run import main

sys.exit(main())
