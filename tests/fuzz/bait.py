"""Adversarial files that get past every rule's cheap screen, so that they reach LibCST.

A hostile file that no rule's screen lets through proves nothing about the parser guard:
the engine never parses it with LibCST. Every file built here starts from :data:`BAIT`,
a models module on which each tree rule reports something (the tests check that), and
adds the hostile part: deep nesting, bad bytes, a syntax error.
"""

from __future__ import annotations

import os
from pathlib import Path

from o2o_lint.rules import all_rules

#: A models module on which OTO001 (twice: one safe fix, one unsafe), OTO002, OTO003,
#: OTO004 and OTO005 (no fix: `count()`) all report, and OTO001-OTO003 offer fixes.
BAIT = '''from django.db import models


class Company(models.Model):
    name = models.CharField(max_length=50)


class Address(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True)


class Invoice(models.Model):
    company = models.ForeignKey(Company, models.CASCADE, unique=True)


class Owner(models.Model):
    name = models.CharField(max_length=50)


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile")


class Place(models.Model):
    name = models.CharField(max_length=50)


class Restaurant(models.Model):
    place = models.OneToOneField(Place, models.CASCADE, primary_key=True)


def ensure(owner):
    if not hasattr(owner, "profile"):
        Profile.objects.create(owner_id=owner.pk)


def open_restaurant():
    p3 = Place(name="Demon Dogs")
    return Restaurant.objects.create(place=p3)


def count(company):
    return company.invoice_set.count()


def profile_count(owner: Owner):
    return owner.profile.count()
'''

#: Registered rules that never walk a tree (OTO100 is computed from the other findings).
NON_TREE_RULES = frozenset({"OTO100"})
#: Rules whose visitor runs on a file: every registered one but those. The bait must reach
#: each of them (a test says so): a new rule means extending the bait.
TREE_RULES = tuple(sorted(set(all_rules()) - NON_TREE_RULES))
#: What the bait gives (OTO001 twice: one safe fix, one unsafe).
BAIT_CODES = sorted(["OTO001", *TREE_RULES])


def _dotted(n: int) -> str:
    return "a" + ".b" * n


#: Deep expressions: name -> (builder, size). Measured with CPython 3.11 and libcst 1.9.0:
#: ``ast.parse`` accepts the 2,000-term chain but LibCST's visitors overflow Python's stack
#: on it; the 10,000-term chain and 3,000 parentheses crash LibCST's native parser with a
#: segmentation fault (``ast.parse`` rejects both cleanly), and so do 20,000 ``or`` terms,
#: which ``ast.parse`` accepts: ``a or b or ...`` is one flat node in ``ast``.
DEEP_EXPRESSIONS = {
    "chain-2000": (lambda n: "1" + "+1" * n, 2000),
    "chain-10000": (lambda n: "1" + "+1" * n, 10000),
    "chain-390": (lambda n: "1" + "+1" * n, 390),
    "parens-3000": (lambda n: "(" * n + "1" + ")" * n, 3000),
    "brackets-1000": (lambda n: "[" * n + "]" * n, 1000),
    "or-5000": (lambda n: " or ".join(["a"] * n), 5000),
    "or-20000": (lambda n: " or ".join(["a"] * n), 20000),
    "and-399": (lambda n: " and ".join(["a"] * n), 399),
    "attribute-1000": (_dotted, 1000),
    "attribute-2000": (_dotted, 2000),
    "calls-1000": (lambda n: "f" + "()" * n, 1000),
    "subscripts-1000": (lambda n: "a" + "[0]" * n, 1000),
    "unary-1000": (lambda n: "-" * n + "1", 1000),
    "not-1000": (lambda n: "not " * n + "a", 1000),
    "power-1000": (lambda n: "2**" * n + "1", 1000),
    "lambda-1000": (lambda n: "lambda: " * n + "1", 1000),
    "ifexp-1000": (lambda n: "a if b else " * n + "c", 1000),
    "strings-3000": (lambda n: "(" + "'a' " * n + ")", 3000),
    "fstrings-3000": (lambda n: "(" + "f'{a}' " * n + ")", 3000),
}

_FK_LINE = "    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n"


def deep_files(scale: float = 1.0) -> dict[str, str]:
    """Hostile modules, by name: each deep construct in several places of the bait.

    *scale* shrinks the sizes: ``deep_files(0.01)`` are the same files, shallow enough to
    be checked normally (the tests use them to show the constructs do not stop the screens).
    """

    def size(n: int) -> int:
        return max(2, int(n * scale))

    files: dict[str, str] = {}
    for name, (build, n) in DEEP_EXPRESSIONS.items():
        expression = build(size(n))
        # at module level, after the bait
        files[f"{name}-module"] = BAIT + f"\n\nDEEP = {expression}\n"
        # an argument of the very call OTO001 reports (the index's facts read it)
        files[f"{name}-in-call"] = BAIT.replace(
            _FK_LINE, f"    company = models.ForeignKey({expression}, models.CASCADE, unique=True)\n", 1
        )
    dotted = _dotted(size(2000))
    files["import-from-2000"] = f"from {dotted} import ForeignKey\n" + BAIT
    files["import-2000"] = f"import {dotted}\n" + BAIT
    files["base-class-2000"] = BAIT.replace("class Address(models.Model):", f"class Address({dotted}):", 1)
    files["elif-1000"] = BAIT + "\n\nif a:\n    pass\n" + "elif a:\n    pass\n" * size(1000)
    files["decorators-1000"] = BAIT + "\n\n" + "@d\n" * size(1000) + "def f():\n    pass\n"
    return files


def bad_files() -> dict[str, bytes]:
    """Files that cannot be checked, by file name: each must be one OTO000 line."""
    bait = BAIT.encode()
    half = BAIT[: BAIT.index("unique=True") + 4]
    conflict = BAIT.replace(
        "    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n",
        "<<<<<<< HEAD\n    company = models.ForeignKey(Company, models.CASCADE, unique=True)\n=======\n"
        "    company = models.OneToOneField(Company, models.CASCADE)\n>>>>>>> branch\n",
        1,
    )
    return {
        "py2.py": b'print "hello"\n' + bait,
        "half_written.py": half.encode(),
        "merge_conflict.py": conflict.encode(),
        "latin1_undeclared.py": bait + "# caf\xe9\n".encode("latin-1"),
        "ascii_declared.py": b"# -*- coding: ascii -*-\n" + bait + "# caf\xe9\n".encode("latin-1"),
        "utf8_declared.py": b"# -*- coding: utf-8 -*-\n" + bait + b"# \xff\xfe\n",
        "cp1252_undefined_byte.py": b"# coding: cp1252\n" + bait + b"# \x81\n",
        "unknown_coding.py": b"# coding: klingon\n" + bait,
        "undefined_coding.py": b"# coding: undefined\n" + bait,
        "punycode_coding.py": b"# coding: punycode\n" + bait,
        "bom_and_latin1.py": b"\xef\xbb\xbf# coding: latin-1\n" + bait,
        "binary.py": b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) + bait,
        "binary_without_nul.py": bytes(range(128, 256)) * 4 + bait,
        "utf16.py": BAIT.encode("utf-16"),
        "too_big.py": bait + b"#" * (10 * 1024 * 1024) + b"\n",
    }


def plant_special_files(directory: Path) -> dict[str, str]:
    """Unreadable files, symlink trouble and a FIFO in *directory*; name -> message fragment."""
    planted = {}
    unreadable = directory / "unreadable.py"
    if os.geteuid() == 0:
        # root reads any file whatever its mode; reading this one fails with EIO instead
        os.symlink("/proc/self/mem", unreadable)
    else:
        unreadable.write_text(BAIT)
        unreadable.chmod(0)
    planted["unreadable.py"] = "cannot read"
    os.symlink("loop_b.py", directory / "loop_a.py")
    os.symlink("loop_a.py", directory / "loop_b.py")
    planted["loop_a.py"] = planted["loop_b.py"] = "symlink"
    os.symlink("no_such_target.py", directory / "dangling.py")
    planted["dangling.py"] = "symlink"
    os.mkfifo(directory / "fifo.py")  # opening it for reading would wait for a writer forever
    planted["fifo.py"] = "not a regular file"
    os.symlink("/dev/null", directory / "device.py")
    planted["device.py"] = "not a regular file"
    return planted
