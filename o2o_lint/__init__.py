"""o2o-lint: find and fix the traps of Django one-to-one relations."""

from __future__ import annotations

__version__ = "0.1.0"
