from __future__ import annotations

from o2o_lint.cli import main

raise SystemExit(main())
