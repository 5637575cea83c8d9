"""``python -m fake_twilio.node [preload|module|readme]``: print where the Node module is."""

from __future__ import annotations

import sys

from . import README, module_path, preload_path

USAGE = "usage: python -m fake_twilio.node [preload|module|readme]"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    what = args[0] if args else "preload"
    paths = {"preload": preload_path(), "module": module_path(), "readme": str(README)}
    if len(args) > 1 or what not in paths:
        print(USAGE, file=sys.stderr)
        return 2
    print(paths[what])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
