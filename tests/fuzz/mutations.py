"""The fuzz corpus and its mutations, as hypothesis strategies.

The corpus is every ``.py`` file of ``tests/fixtures`` (each analysed at its own path in a
copy of its project, so that its imports resolve in the index), the bait of
:mod:`tests.fuzz.bait`, and every ``VALID``/``INVALID`` snippet of the rules. A mutation
deletes, duplicates, swaps or truncates lines, or plants what the rules look for:
``unique=True``, ``hasattr(x, "address")``, model constructors and saves, reverse managers.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import strategies as st

from o2o_lint.rules import all_rules
from tests.fuzz.bait import BAIT
from tests.helpers import snippet

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

#: Statements the rules react to; ``{i}`` is replaced by the indentation of the line they go before.
PLANTS = (
    'hasattr(company, "address")',
    'if not hasattr(company, "address"):\n{i}    Address.objects.create(company=company)',
    "address = Address(company=company)",
    "address.save()",
    "place = Place(name='x')\n{i}Restaurant.objects.create(place=place)",
    "Restaurant.objects.create(place=Place(name='x'))",
    "company.address_set.all()",
    "company.invoice_set.count()",
    "prefetch_related('invoice_set')",
    "company = models.ForeignKey(Company, models.CASCADE, unique=True)",
    "owner = models.OneToOneField(Owner, models.CASCADE, related_name='profile')",
    "x = 1  # noqa: OTO001",
    "await Address.objects.acreate(company=company)",
    "del company.address",
    "try:\n{i}    company.address\n{i}except Address.DoesNotExist:\n{i}    pass",
    "company.refresh_from_db()",
    "with transaction.atomic():\n{i}    Address.objects.create(company_id=company.pk)",
    "class Extra(models.Model):\n{i}    company = models.ForeignKey('Company', on_delete=models.CASCADE, unique=True)",
    "from django.db.models import ForeignKey as FK",
    "lambda: Address(company=company).save()",
)

#: (old, new) text replacements.
SWAPS = (
    ("ForeignKey", "OneToOneField"),
    ("OneToOneField", "ForeignKey"),
    ("unique=True", "unique=False"),
    ("unique=True", "primary_key=True"),
    (", unique=True", ""),
    ("models.", ""),
    ("    ", "\t"),
    ("\n", "\r\n"),
    ("company", "address"),
    (".save()", ".asave()"),
    ("def ", "async def "),
    ("objects.create(", "objects.get_or_create("),
)


def corpus() -> list[tuple[str, str]]:
    """(path relative to tests/fixtures, text) of every corpus file; snippets and bait go
    to paths of their own in the demo project."""
    items = [(str(path.relative_to(FIXTURES)), path.read_text()) for path in sorted(FIXTURES.rglob("*.py"))]
    items.append(("demo/extra/models.py", BAIT))
    for rule in all_rules().values():
        for case in (*rule.VALID, *rule.INVALID):
            code = case if isinstance(case, str) else case.code
            items.append(("demo/extra/snippet.py", snippet(code)))
    return items


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True) or [""]


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


@st.composite
def mutation(draw: st.DrawFn, text: str) -> str:
    kind = draw(st.sampled_from(("delete", "duplicate", "swap", "truncate", "plant", "unique", "replace")))
    lines = _lines(text)
    index = draw(st.integers(0, len(lines) - 1))
    if kind == "delete":
        del lines[index]
    elif kind == "duplicate":
        lines.insert(index, lines[index])
    elif kind == "swap":
        other = draw(st.integers(0, len(lines) - 1))
        lines[index], lines[other] = lines[other], lines[index]
    elif kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    elif kind == "plant":
        indent = _indent_of(lines[index])
        plant = draw(st.sampled_from(PLANTS)).replace("{i}", indent)
        lines.insert(index, indent + plant + "\n")
    elif kind == "unique":
        closing = [m.start() for m in re.finditer(r"\)", text)]
        if closing:
            at = draw(st.sampled_from(closing))
            return text[:at] + draw(st.sampled_from((", unique=True", ", unique=True, related_name='x'", "unique=True"))) + text[at:]
    else:
        old, new = draw(st.sampled_from(SWAPS))
        count = draw(st.integers(1, 3))
        return text.replace(old, new, count)
    return "".join(lines)


@st.composite
def mutated_corpus_file(draw: st.DrawFn, items: list[tuple[str, str]]) -> tuple[str, str]:
    path, text = draw(st.sampled_from(items))
    for _ in range(draw(st.integers(1, 4))):
        text = draw(mutation(text))
    return path, text
