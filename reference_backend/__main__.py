"""``python -m reference_backend serve ...``: see :mod:`reference_backend.cli`."""

import sys

from .cli import main

sys.exit(main())
