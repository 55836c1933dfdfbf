import os
import sys

# `python -m o2o_lint` puts the current directory, usually the project being linted, first
# on sys.path: its `typing.py` or `secrets.py` would then be imported (run) in place of the
# standard library's. The code being linted is never imported; drop that entry first.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from o2o_lint.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
