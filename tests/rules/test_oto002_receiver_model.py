"""OTO002's receiver model beyond the snippets: what the findings cache must follow.

Whether a writer's parameter may own the accessor is read from the writer's text (its
annotation), not from its facts: editing the annotation in the writer's module must
change the caller's findings on the next warm run, exactly as a run without the cache
says (the facts of the two texts are the same).
"""

from __future__ import annotations

import json
from pathlib import Path

from o2o_lint.rules.oto002_stale_reverse_cache.rule import _RECEIVER_MODELS
from tests.helpers import run_cli, write_project

SERVICES = """\
from venue.models import Guest, Host, Ticket


def ensure_ticket(person: {model}):
    Ticket.objects.create(holder_id=person.pk)
"""
VIEWS = """\
from venue.services import ensure_ticket


def admit(person):
    if not hasattr(person, "ticket"):
        ensure_ticket(person)
    return person
"""


def _findings(root: Path, *options: str) -> list[tuple[str, int]]:
    report = json.loads(run_cli("--select", "OTO002", "--output-format", "json", *options, ".", cwd=root).stdout)
    return sorted((f["filename"].replace("\\", "/").rpartition("venue/")[2], f["location"]["row"]) for f in report)


def test_editing_the_writers_annotation_changes_the_callers_cached_findings(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"venue/models.py": _RECEIVER_MODELS, "venue/views.py": VIEWS,
                                          "venue/services.py": SERVICES.format(model="Host")})
    reported = [("services.py", 5), ("views.py", 6)]
    assert _findings(root) == reported == _findings(root, "--no-cache")
    (root / "venue" / "services.py").write_text(SERVICES.format(model="Guest"))
    assert _findings(root) == [] == _findings(root, "--no-cache")
    (root / "venue" / "services.py").write_text(SERVICES.format(model="Host"))
    assert _findings(root) == reported
