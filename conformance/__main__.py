"""``python -m conformance``: the ``live-conformance`` command line (see :mod:`conformance.cli`)."""

import sys

from .cli import main

sys.exit(main())
