"""``python -m fake_twilio``: the ``fake-twilio`` command line (see :mod:`fake_twilio.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
