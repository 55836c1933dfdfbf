"""OTO002: a reverse one-to-one read caches its answer; a later write makes it stale.

Reading a reverse one-to-one accessor (``company.address``, ``user.profile``, the
multi-table inheritance accessor ``place.restaurant``) stores the answer on the
instance, *including "there is none"*: ``hasattr(obj, "rel")``, ``getattr(obj, "rel",
None)`` and ``try: obj.rel / except Rel.DoesNotExist`` all cache it (Django 1.7 to 6.1
alike). A later write to the relation that does not go through that very instance
leaves ``obj.rel`` wrong until the instance is refreshed:

* after an absence was cached: ``Rel.objects.create(owner_id=obj.pk)``,
  ``Rel(owner_id=obj.pk).save()``, ``rel.owner_id = obj.pk; rel.save()``, a create
  through another instance of the same row (``owner=Owner.objects.get(pk=obj.pk)``),
  ``QuerySet.update(owner=obj)``, ``get_or_create`` / ``update_or_create`` keyed by
  ``owner_id``;
* after a presence was cached: ``obj.rel.delete()`` (also ``delete(keep_parents=True)``
  of a multi-table child), ``Rel.objects.filter(owner=obj).delete()``, moving the row to
  another owner (``update()``, or ``rel.owner = other; rel.save()``).

Writes through the instance refresh the cache themselves and are never reported:
``Rel.objects.create(owner=obj)``, ``Rel(owner=obj).save()``, ``rel.owner = obj;
rel.save()``, ``obj.rel = rel``; so is saving the related row's own fields.

Decisions:

* ``get_or_create(owner=obj)`` / ``update_or_create(owner=obj)`` are not reported. They
  go through the instance; they leave the cache stale only when they *find* a row
  although the read cached "none", which, without another stale write (reported on its
  own), takes a concurrent insert (Django ticket #36489). Keyed by ``owner_id=`` they
  are always reported.
* ``delete()`` of a multi-table child without ``keep_parents=True`` is not reported: it
  deletes the parent row, i.e. the receiver itself, whose cache no longer matters
  (and which ``refresh_from_db`` could no longer reload).
* The write must tie the receiver to the model that owns the accessor's relation: the
  same name as an accessor elsewhere, a forward field or a plain attribute never makes
  a finding.

Where the write sits in another function (``company.create_address()`` writing on
``self``, ``ensure_profile(user)`` writing on its parameter, in any module), the index's
per-function summaries say so: the call is reported, and the writer's own write gets
the finding and the fix, so that every caller is right and a second ``--fix`` run
changes nothing.

The fixes are safe and keep the write: a write that returns the related object is
assigned to the accessor (``obj.rel = Rel.objects.create(owner_id=obj.pk)``, zero
queries; ``obj.rel, _ = Rel.objects.get_or_create(...)``); any other write is followed
by ``obj.refresh_from_db(fields=["<query name>"])`` (the relation's query name:
``related_query_name`` when given). Never a bare ``refresh_from_db()`` (it discards
unsaved edits) nor ``fields=[<another field>]`` (which stopped clearing the cache in
Django 5.1).
"""

from __future__ import annotations

import ast
import re
from typing import Any

import libcst as cst

from o2o_lint.django_api import RETURNS_OBJECT, RETURNS_PAIR
from o2o_lint.findings import Fix
from o2o_lint.rules.base import FileContext, Invalid, LintRule, TreeScreen, Valid
from o2o_lint.sourcefile import split_lines

_MODELS = '''\
from django.conf import settings
from django.db import models


class Owner(models.Model):
    name = models.CharField(max_length=50)


class Profile(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="profile")
    bio = models.TextField(blank=True)


class Badge(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="badge", related_query_name="badge_q")


class Company(models.Model):
    def create_address(self):
        assert not hasattr(self, "address")
        return Address.objects.create(company_id=self.pk)


class Address(models.Model):
    company = models.OneToOneField(Company, models.CASCADE, null=True)


class Place(models.Model):
    name = models.CharField(max_length=50)


class Restaurant(Place):
    serves_pizza = models.BooleanField(default=False)


class MySpecialUser(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE)
    supervisor = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="supervisor_of")


class Stamped(models.Model):
    owner = models.OneToOneField(Owner, models.CASCADE, related_name="%(class)s_card")

    class Meta:
        abstract = True


class LoyaltyCard(Stamped):
    points = models.IntegerField(default=0)


class Comment(models.Model):
    owner = models.ForeignKey(Owner, models.CASCADE)


class Account(models.Model):
    person = models.OneToOneField(Owner, models.CASCADE, related_name="user")
'''
_FILES = {"shop/models.py": _MODELS}
_IMPORTS = "from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant\n\n\n"


def _valid(code: str, **files: str) -> Valid:
    return Valid(_IMPORTS + code, files={**_FILES, **files})


def _invalid(code: str, fixed: str | None, *messages: str, **files: str) -> Invalid:
    return Invalid(_IMPORTS + code, expected_fix=None if fixed is None else _IMPORTS + fixed,
                   expected_messages=messages, files={**_FILES, **files})


class StaleReverseCache(LintRule):
    code = "OTO002"
    name = "stale-reverse-one-to-one-cache"
    summary = "A write after a reverse one-to-one read leaves the cached accessor stale"
    fixable = "sometimes"

    VALID = [
        # The everyday safe form: the create goes through the instance, Django updates its cache.
        _valid("def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        Profile.objects.create(owner=owner)\n"),
        _valid("def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        Profile(owner=owner, bio='').save()\n"),
        _valid("def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        profile = Profile()\n"
               "        profile.owner = owner\n        profile.save()\n"),
        _valid("def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        owner.profile = Profile(owner_id=owner.pk)\n"
               "        owner.profile.save()\n"),
        # Saving the related row's own fields is not a relation write.
        _valid("def rename(owner, bio):\n    if hasattr(owner, 'profile'):\n        owner.profile.bio = bio\n"
               "        owner.profile.save()\n        Profile.objects.filter(owner=owner).update(bio=bio)\n"),
        # A refresh (full, or naming the relation's query name) or an accessor assignment clears it.
        _valid("def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        Profile.objects.create(owner_id=owner.pk)\n"
               "        owner.refresh_from_db()\n"),
        _valid("def ensure(owner):\n    if not hasattr(owner, 'badge'):\n        Badge.objects.create(owner_id=owner.pk)\n"
               "    owner.refresh_from_db(fields=['badge_q'])\n"),
        _valid("def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        profile = Profile.objects.create(owner_id=owner.pk)\n"
               "        owner.profile = profile\n"),
        # Not the same receiver: rebound in between, or another object.
        _valid("def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        owner = Owner.objects.get(pk=owner.pk)\n"
               "        Profile.objects.create(owner_id=owner.pk)\n"),
        _valid("def ensure(owner, other):\n    if not hasattr(owner, 'profile'):\n        Profile.objects.create(owner_id=other.pk)\n"),
        _valid("def ensure(owner, owners):\n    if not hasattr(owner, 'profile'):\n        for owner in owners:\n"
               "            Profile.objects.create(owner_id=owner.pk)\n"),
        # Not a reverse one-to-one accessor: the relation says related_name="supervisor_of".
        _valid("def supervise(user, other):\n    if not hasattr(user, 'supervision'):\n"
               "        MySpecialUser.objects.create(user_id=other.pk, supervisor_id=user.pk)\n"),
        # `user` is Owner's accessor for Account.person, but this write is Profile.owner's: no tie.
        _valid("def view(request):\n    if hasattr(request, 'user'):\n        Profile.objects.create(owner_id=request.pk)\n"),
        # `user` is a forward field of MySpecialUser (and Owner's reverse accessor for Account):
        # the read is of the forward field, and the write ties `other`, not `special`.
        _valid("def reassign(special, other):\n    if hasattr(special, 'user'):\n"
               "        MySpecialUser.objects.filter(pk=special.pk).update(user=other)\n"),
        # A ForeignKey, and a class that is no model, are not one-to-one relations.
        _valid("def note(owner):\n    if not hasattr(owner, 'profile'):\n        Comment.objects.create(owner_id=owner.pk)\n"),
        _valid("class Cache:\n    objects = None\n\n\ndef note(owner):\n    if not hasattr(owner, 'profile'):\n"
               "        Cache.objects.create(owner_id=owner.pk)\n"),
        # `self` of a class that is neither a model nor a model's mixin owns no reverse relation.
        _valid("class Upload:\n    def cleanup(self):\n        if hasattr(self, 'profile'):\n            self.profile.delete()\n"),
        # The write does not follow the read: before it, or in a sibling branch.
        _valid("def ensure(owner):\n    Profile.objects.create(owner_id=owner.pk)\n    return hasattr(owner, 'profile')\n"),
        _valid("def ensure(owner, flag):\n    if flag:\n        cached = hasattr(owner, 'profile')\n    else:\n"
               "        Profile.objects.create(owner_id=owner.pk)\n"),
        # Decision: get_or_create/update_or_create through the instance are not reported (docstring).
        _valid("def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        Profile.objects.get_or_create(owner=owner)\n"
               "        Profile.objects.update_or_create(owner=owner, defaults={'bio': ''})\n"),
        # Decision: deleting a multi-table child without keep_parents deletes the receiver too.
        _valid("def close(place):\n    if hasattr(place, 'restaurant'):\n        place.restaurant.delete()\n"),
        # No guarded read at all; a handler that does not catch DoesNotExist.
        _valid("def drop(owner):\n    owner.profile.delete()\n"),
        _valid("def ensure(owner, data):\n    try:\n        data[owner.profile]\n    except KeyError:\n"
               "        Profile.objects.create(owner_id=owner.pk)\n"),
        # A writer no caller reads before: nothing is stale.
        _valid("def create_profile(owner):\n    Profile.objects.create(owner_id=owner.pk)\n"),
        # The caller reads another object than the one the writer writes.
        _valid("def setup(company, other):\n    if not hasattr(company, 'address'):\n        other.create_address()\n"),
        # Comprehensions and lambdas have their own scope.
        _valid("def ensure(owners):\n    if not hasattr(owners[0], 'profile'):\n"
               "        [Profile.objects.create(owner_id=o.pk) for o in owners]\n"),
        # The writer was fixed: a second run finds nothing at the call site either.
        _valid("from shop.services import ensure_profile\n\n\ndef login(owner):\n    if not hasattr(owner, 'profile'):\n"
               "        ensure_profile(owner)\n    return owner.profile\n",
               **{"shop/services.py": "from shop.models import Profile\n\n\ndef ensure_profile(owner):\n"
                  "    owner.profile, _ = Profile.objects.get_or_create(owner_id=owner.pk)\n"}),
        # A `# noqa` comment suppresses the finding.
        _valid("def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
               "        Profile.objects.create(owner_id=owner.pk)  # noqa: OTO002\n"),
    ]
    INVALID = [
        # -- stale after an absence was cached -------------------------------------------
        # create(owner_id=...): returns the object, so it is assigned to the accessor.
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        Profile.objects.create(owner_id=owner.pk)\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        owner.profile = Profile.objects.create(owner_id=owner.pk)\n",
            "`owner.profile` was read at line 5",
        ),
        # Rel(owner_id=...).save(): save() returns nothing, so the relation is refreshed.
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        Profile(owner_id=owner.pk).save()\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        Profile(owner_id=owner.pk).save()\n"
            '        owner.refresh_from_db(fields=["profile"])\n',
            "`.save()` with `owner_id` set",
        ),
        # rel.owner_id = obj.pk; rel.save()
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        profile = Profile()\n"
            "        profile.owner_id = owner.pk\n        profile.save()\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        profile = Profile()\n"
            "        profile.owner_id = owner.pk\n        profile.save()\n"
            '        owner.refresh_from_db(fields=["profile"])\n',
            "`owner.profile` was read at line 5",
        ),
        # Through another instance of the same row (inline, or bound to a name first).
        _invalid(
            "def ensure(owner):\n    if getattr(owner, 'profile', None) is None:\n"
            "        Profile.objects.create(owner=Owner.objects.get(pk=owner.pk))\n",
            "def ensure(owner):\n    if getattr(owner, 'profile', None) is None:\n"
            "        owner.profile = Profile.objects.create(owner=Owner.objects.get(pk=owner.pk))\n",
            "another instance of its row",
        ),
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        fresh = Owner.objects.get(pk=owner.pk)\n"
            "        Profile(owner=fresh).save()\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        fresh = Owner.objects.get(pk=owner.pk)\n"
            '        Profile(owner=fresh).save()\n        owner.refresh_from_db(fields=["profile"])\n',
            "another instance of its row",
        ),
        # QuerySet.update(owner=obj) and update(owner_id=obj.pk) bypass every instance.
        _invalid(
            "def adopt(owner, profile_id):\n    if not hasattr(owner, 'profile'):\n"
            "        Profile.objects.filter(pk=profile_id).update(owner=owner)\n",
            "def adopt(owner, profile_id):\n    if not hasattr(owner, 'profile'):\n"
            "        Profile.objects.filter(pk=profile_id).update(owner=owner)\n"
            '        owner.refresh_from_db(fields=["profile"])\n',
            "`QuerySet.update(owner=...)`",
        ),
        _invalid(
            "def adopt(owner, profile_id):\n    if not hasattr(owner, 'profile'):\n"
            "        Profile.objects.filter(pk=profile_id).update(owner_id=owner.pk)\n",
            "def adopt(owner, profile_id):\n    if not hasattr(owner, 'profile'):\n"
            "        Profile.objects.filter(pk=profile_id).update(owner_id=owner.pk)\n"
            '        owner.refresh_from_db(fields=["profile"])\n',
        ),
        # get_or_create / update_or_create keyed by owner_id: the pair is unpacked into the accessor.
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        Profile.objects.get_or_create(owner_id=owner.pk)\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        owner.profile, _ = Profile.objects.get_or_create(owner_id=owner.pk)\n",
            "`get_or_create(owner_id=...)`",
        ),
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        profile, created = Profile.objects.update_or_create(owner_id=owner.pk, defaults={'bio': ''})\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        profile, created = Profile.objects.update_or_create(owner_id=owner.pk, defaults={'bio': ''})\n"
            "        owner.profile = profile\n",
            "`update_or_create(owner_id=...)`",
        ),
        # The created object is already bound to a name: the accessor joins the assignment.
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        profile = Profile.objects.create(owner_id=owner.pk)\n        return profile.bio\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        profile = owner.profile = Profile.objects.create(owner_id=owner.pk)\n        return profile.bio\n",
        ),
        # `_` is gettext in this module: assigning it would make it local, so another name is used.
        _invalid(
            "from django.utils.translation import gettext as _\n\n\ndef ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        Profile.objects.get_or_create(owner_id=owner.pk)\n    return _('done')\n",
            "from django.utils.translation import gettext as _\n\n\ndef ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        owner.profile, _created = Profile.objects.get_or_create(owner_id=owner.pk)\n    return _('done')\n",
        ),
        # The three try/except reads cache exactly like hasattr.
        _invalid(
            "def bio(owner):\n    try:\n        return owner.profile.bio\n    except Profile.DoesNotExist:\n"
            "        Profile.objects.create(owner_id=owner.pk)\n",
            "def bio(owner):\n    try:\n        return owner.profile.bio\n    except Profile.DoesNotExist:\n"
            "        owner.profile = Profile.objects.create(owner_id=owner.pk)\n",
            "`owner.profile` was read at line 6",
        ),
        _invalid(
            "from django.core.exceptions import ObjectDoesNotExist\n\n\ndef bio(owner):\n    try:\n        owner.profile\n"
            "    except ObjectDoesNotExist:\n        Profile(owner_id=owner.pk, bio='x').save()\n",
            "from django.core.exceptions import ObjectDoesNotExist\n\n\ndef bio(owner):\n    try:\n        owner.profile\n"
            "    except ObjectDoesNotExist:\n        Profile(owner_id=owner.pk, bio='x').save()\n"
            '        owner.refresh_from_db(fields=["profile"])\n',
            "`owner.profile` was read at line 9",
        ),
        _invalid(
            "def bio(owner):\n    try:\n        owner.profile\n    except Owner.profile.RelatedObjectDoesNotExist:\n"
            "        Profile.objects.create(owner_id=owner.pk)\n",
            "def bio(owner):\n    try:\n        owner.profile\n    except Owner.profile.RelatedObjectDoesNotExist:\n"
            "        owner.profile = Profile.objects.create(owner_id=owner.pk)\n",
        ),
        # related_query_name: the refresh must name the query name (the accessor raises there).
        _invalid(
            "def award(owner):\n    if not hasattr(owner, 'badge'):\n        Badge(owner_id=owner.pk).save()\n",
            "def award(owner):\n    if not hasattr(owner, 'badge'):\n        Badge(owner_id=owner.pk).save()\n"
            '        owner.refresh_from_db(fields=["badge_q"])\n',
            "`owner.badge`",
        ),
        # related_name on the other side of the docs' MySpecialUser; a placeholder on an abstract base.
        _invalid(
            "def supervise(user, other):\n    if not hasattr(user, 'supervisor_of'):\n"
            "        MySpecialUser.objects.create(user_id=other.pk, supervisor_id=user.pk)\n",
            "def supervise(user, other):\n    if not hasattr(user, 'supervisor_of'):\n"
            "        user.supervisor_of = MySpecialUser.objects.create(user_id=other.pk, supervisor_id=user.pk)\n",
            "`user.supervisor_of`",
        ),
        _invalid(
            "def enrol(owner):\n    if not hasattr(owner, 'loyaltycard_card'):\n"
            "        LoyaltyCard.objects.create(owner_id=owner.pk)\n",
            "def enrol(owner):\n    if not hasattr(owner, 'loyaltycard_card'):\n"
            "        owner.loyaltycard_card = LoyaltyCard.objects.create(owner_id=owner.pk)\n",
            "`owner.loyaltycard_card`",
        ),
        # Multi-table inheritance: the implicit parent link place_ptr.
        _invalid(
            "def open_restaurant(place):\n    if not hasattr(place, 'restaurant'):\n"
            "        Restaurant(place_ptr_id=place.pk, name=place.name).save()\n",
            "def open_restaurant(place):\n    if not hasattr(place, 'restaurant'):\n"
            "        Restaurant(place_ptr_id=place.pk, name=place.name).save()\n"
            '        place.refresh_from_db(fields=["restaurant"])\n',
            "`place.restaurant`",
        ),
        # -- stale after a presence was cached --------------------------------------------
        _invalid(
            "def drop(owner):\n    if hasattr(owner, 'profile'):\n        owner.profile.delete()\n",
            "def drop(owner):\n    if hasattr(owner, 'profile'):\n        owner.profile.delete()\n"
            '        owner.refresh_from_db(fields=["profile"])\n',
            "`.delete()` of the related row",
        ),
        _invalid(
            "def close(place):\n    if hasattr(place, 'restaurant'):\n        place.restaurant.delete(keep_parents=True)\n",
            "def close(place):\n    if hasattr(place, 'restaurant'):\n        place.restaurant.delete(keep_parents=True)\n"
            '        place.refresh_from_db(fields=["restaurant"])\n',
            "`place.restaurant`",
        ),
        _invalid(
            "def drop(owner):\n    if hasattr(owner, 'profile'):\n        Profile.objects.filter(owner=owner).delete()\n",
            "def drop(owner):\n    if hasattr(owner, 'profile'):\n        Profile.objects.filter(owner=owner).delete()\n"
            '        owner.refresh_from_db(fields=["profile"])\n',
            "`QuerySet.delete()` filtered on `owner`",
        ),
        _invalid(
            "def drop(owner):\n    if hasattr(owner, 'profile'):\n        Profile.objects.get(owner=owner).delete()\n",
            "def drop(owner):\n    if hasattr(owner, 'profile'):\n        Profile.objects.get(owner=owner).delete()\n"
            '        owner.refresh_from_db(fields=["profile"])\n',
        ),
        # Moving the row to another owner, with update() or through the cached instance.
        _invalid(
            "def hand_over(owner, other):\n    if hasattr(owner, 'profile'):\n"
            "        Profile.objects.filter(owner=owner).update(owner=other)\n",
            "def hand_over(owner, other):\n    if hasattr(owner, 'profile'):\n"
            "        Profile.objects.filter(owner=owner).update(owner=other)\n"
            '        owner.refresh_from_db(fields=["profile"])\n',
        ),
        _invalid(
            "def hand_over(owner, other):\n    if hasattr(owner, 'profile'):\n        profile = owner.profile\n"
            "        profile.owner = other\n        profile.save()\n",
            "def hand_over(owner, other):\n    if hasattr(owner, 'profile'):\n        profile = owner.profile\n"
            '        profile.owner = other\n        profile.save()\n        owner.refresh_from_db(fields=["profile"])\n',
        ),
        # -- where the read and the write stand ---------------------------------------------
        # Straight-line order, after the guarded branch, in a loop, in an except handler.
        _invalid(
            "from django.core.exceptions import ObjectDoesNotExist\n\n\ndef bio(owner):\n    try:\n"
            "        text = owner.profile.bio\n    except ObjectDoesNotExist:\n        text = ''\n"
            "    Profile.objects.filter(owner=owner).delete()\n    return text\n",
            "from django.core.exceptions import ObjectDoesNotExist\n\n\ndef bio(owner):\n    try:\n"
            "        text = owner.profile.bio\n    except ObjectDoesNotExist:\n        text = ''\n"
            '    Profile.objects.filter(owner=owner).delete()\n    owner.refresh_from_db(fields=["profile"])\n'
            "    return text\n",
        ),
        _invalid(
            "def ensure_all(owners):\n    for owner in owners:\n        if not hasattr(owner, 'profile'):\n"
            "            Profile.objects.create(owner_id=owner.pk)\n",
            "def ensure_all(owners):\n    for owner in owners:\n        if not hasattr(owner, 'profile'):\n"
            "            owner.profile = Profile.objects.create(owner_id=owner.pk)\n",
        ),
        # One finding per write; a dotted receiver; a one-line branch; a write inside an expression.
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        Profile.objects.create(owner_id=owner.pk)\n"
            "    if not hasattr(owner, 'badge'):\n        Badge.objects.create(owner_id=owner.pk)\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        owner.profile = Profile.objects.create(owner_id=owner.pk)\n"
            "    if not hasattr(owner, 'badge'):\n        owner.badge = Badge.objects.create(owner_id=owner.pk)\n",
            "`owner.profile`", "`owner.badge`",
        ),
        _invalid(
            "def view(request):\n    if not hasattr(request.user, 'profile'):\n"
            "        Profile.objects.create(owner_id=request.user.pk)\n    return request.user.profile\n",
            "def view(request):\n    if not hasattr(request.user, 'profile'):\n"
            "        request.user.profile = Profile.objects.create(owner_id=request.user.pk)\n    return request.user.profile\n",
            "`request.user.profile`",
        ),
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'): Profile(owner_id=owner.pk).save()\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'): Profile(owner_id=owner.pk).save(); "
            'owner.refresh_from_db(fields=["profile"])\n',
        ),
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        bio = Profile.objects.create(owner_id=owner.pk).bio\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        bio = Profile.objects.create(owner_id=owner.pk).bio\n"
            '        owner.refresh_from_db(fields=["profile"])\n',
        ),
        # refresh_from_db(fields=[<another field>]) stopped clearing the cache in Django 5.1.
        _invalid(
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n        Profile.objects.create(owner_id=owner.pk)\n"
            "        owner.refresh_from_db(fields=['name'])\n",
            "def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        owner.profile = Profile.objects.create(owner_id=owner.pk)\n"
            "        owner.refresh_from_db(fields=['name'])\n",
            "clears it only up to Django 5.0",
        ),
        # async: the awaited write is assigned, or followed by arefresh_from_db.
        _invalid(
            "async def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        await Profile.objects.acreate(owner_id=owner.pk)\n    if hasattr(owner, 'badge'):\n"
            "        await Badge.objects.filter(owner=owner).adelete()\n",
            "async def ensure(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        owner.profile = await Profile.objects.acreate(owner_id=owner.pk)\n    if hasattr(owner, 'badge'):\n"
            '        await Badge.objects.filter(owner=owner).adelete()\n'
            '        await owner.arefresh_from_db(fields=["badge_q"])\n',
        ),
        # A write in a compound statement's header: reported, no place for a statement.
        _invalid(
            "def drop(owner):\n    if hasattr(owner, 'profile'):\n"
            "        if Profile.objects.filter(owner=owner).delete()[0]:\n            return True\n",
            None,
            "`owner.profile`",
        ),
        # -- the write in another function ----------------------------------------------------
        # The forum thread: company.create_address() writes on self (in shop/models.py): the
        # call is reported here, the fix goes to the writer.
        _invalid(
            "def test_create_address_for_company():\n    company = Company.objects.create()\n"
            "    assert not hasattr(company, 'address')\n    company.create_address()\n    address = company.address\n",
            None,
            "`company.create_address()` changes the relation without going through it "
            "(`create(company_id=...)` in shop.models.Company.create_address, line 21: fix it there)",
        ),
        # ensure_profile(user) in another module, imported by name or through its module.
        _invalid(
            "from shop.services import ensure_profile\n\n\ndef login(owner):\n    if not hasattr(owner, 'profile'):\n"
            "        ensure_profile(owner)\n    return owner.profile\n",
            None,
            "`owner.profile` was read at line 8 and its answer is cached on `owner`; `ensure_profile()`",
            **{"shop/services.py": "from shop.models import Profile\n\n\ndef ensure_profile(owner):\n"
               "    Profile.objects.get_or_create(owner_id=owner.pk)\n"},
        ),
        # ... and the writer's side: its caller (in shop/views.py) reads first, so the writer is
        # fixed for every caller.
        _invalid(
            "def ensure_profile(owner):\n    Profile.objects.get_or_create(owner_id=owner.pk)\n\n\n"
            "def unrelated(owner):\n    Profile.objects.create(owner_id=owner.pk)\n",
            "def ensure_profile(owner):\n    owner.profile, _ = Profile.objects.get_or_create(owner_id=owner.pk)\n\n\n"
            "def unrelated(owner):\n    Profile.objects.create(owner_id=owner.pk)\n",
            "callers read `owner.profile` before calling `ensure_profile()` (shop.views.login reads it at line 5)",
            **{"shop/views.py": "from app import models as services\n\n\ndef login(owner):\n"
               "    if not hasattr(owner, 'profile'):\n        services.ensure_profile(owner)\n    return owner.profile\n"},
        ),
        # Both in one file, through a method on self; a writer that returns the created object.
        _invalid(
            "class Onboarding:\n    def run(self, company):\n        if not hasattr(company, 'address'):\n"
            "            self.add_address(company)\n\n    def add_address(self, company):\n"
            "        Address.objects.create(company_id=company.pk)\n",
            "class Onboarding:\n    def run(self, company):\n        if not hasattr(company, 'address'):\n"
            "            self.add_address(company)\n\n    def add_address(self, company):\n"
            "        company.address = Address.objects.create(company_id=company.pk)\n",
            "`self.add_address()` changes the relation",
            "callers read `company.address` before calling `Onboarding.add_address()`",
        ),
        _invalid(
            "def setup(company):\n    if not hasattr(company, 'address'):\n        return make_address(company)\n\n\n"
            "def make_address(company):\n    return Address.objects.create(company_id=company.pk)\n",
            "def setup(company):\n    if not hasattr(company, 'address'):\n        return make_address(company)\n\n\n"
            "def make_address(company):\n    company.address = Address.objects.create(company_id=company.pk)\n"
            "    return company.address\n",
            "`make_address()` changes the relation",
            "callers read `company.address`",
        ),
        # A model method that reads and writes on self (the forum's Company.create_address).
        _invalid(
            "from django.db import models\n\n\nclass Shop(models.Model):\n    def open(self):\n"
            "        if not hasattr(self, 'storefront'):\n            Storefront.objects.create(shop_id=self.pk)\n\n\n"
            "class Storefront(models.Model):\n    shop = models.OneToOneField(Shop, models.CASCADE)\n",
            "from django.db import models\n\n\nclass Shop(models.Model):\n    def open(self):\n"
            "        if not hasattr(self, 'storefront'):\n            self.storefront = Storefront.objects.create(shop_id=self.pk)\n\n\n"
            "class Storefront(models.Model):\n    shop = models.OneToOneField(Shop, models.CASCADE)\n",
            "`self.storefront` was read at line 9",
        ),
    ]

    @classmethod
    def screen(cls, context: FileContext) -> bool:
        return context.index.stale_cache_screen(context.facts)

    @classmethod
    def screen_tree(cls, context: FileContext, tree: ast.Module) -> TreeScreen:
        """The index already knows where the findings are: only their statements are parsed."""
        return {found["pos"][0] for found in context.index.stale_cache_findings(context.facts)}

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.pending: dict[tuple[int, int], dict[str, Any]] = {}
        lines: list[str] | None = None
        for found in context.index.stale_cache_findings(context.facts):
            line, byte_column = found["pos"][0], found["pos"][1]
            if lines is None:
                lines = split_lines(context.text)
            text = lines[line - 1] if line - 1 < len(lines) else ""
            column = len(text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))
            self.pending.setdefault((line, column), found)
        self.statement_lines: list[cst.SimpleStatementLine | cst.SimpleStatementSuite] = []
        self.awaited: set[int] = set()

    # -- where a call stands -------------------------------------------------------

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statement_lines.append(node)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self.statement_lines.pop()

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self.statement_lines.append(node)

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite) -> None:
        self.statement_lines.pop()

    def visit_Await(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Call):
            self.awaited.add(id(node.expression))

    def visit_Call(self, node: cst.Call) -> None:
        if not self.pending:
            return
        start = self.position(node).start
        found = self.pending.pop((start.line, start.column), None)
        if found is None:
            return
        fix = None if found["kind"] == "call" else self._fix(node, found)
        self.report(node, found["message"], fix)

    # -- fixes ---------------------------------------------------------------------

    def _fix(self, call: cst.Call, found: dict[str, Any]) -> Fix | None:
        if not self.statement_lines:
            return None  # in a compound statement's header: nowhere to put a statement
        line = self.statement_lines[-1]
        small = self._small_statement(line, call)
        if small is None:
            return None
        receiver, accessor = found["recv"], found["acc"]
        method = call.func.attr.value if isinstance(call.func, cst.Attribute) else None
        value = getattr(small, "value", None)
        direct = value is call or isinstance(value, cst.Await) and value.expression is call
        replacement: Any = None
        description = f"Assign the written object to `{receiver}.{accessor}`"
        if direct and method in RETURNS_OBJECT | RETURNS_PAIR:
            replacement = self._assign(line, small, receiver, accessor, pair=method in RETURNS_PAIR)
        if replacement is None:
            if len(found["query_names"]) != 1 or isinstance(small, (cst.Return, cst.Raise)):
                return None
            query_name = found["query_names"][0]
            awaited = id(call) in self.awaited
            refresh = f'{"await " if awaited else ""}{receiver}.{"a" if awaited else ""}refresh_from_db(fields=["{query_name}"])'
            replacement = self._after(line, cst.Expr(cst.parse_expression(refresh)))
            description = f'Refresh `{receiver}.{accessor}` with `{receiver}.refresh_from_db(fields=["{query_name}"])`'
        return Fix(description=description, safe=True, replacements={line: replacement}, span=self.span_of(line))

    def _small_statement(self, line: cst.SimpleStatementLine | cst.SimpleStatementSuite,
                         call: cst.Call) -> cst.BaseSmallStatement | None:
        where = self.position(call).start
        for small in line.body:
            span = self.position(small)
            if (span.start.line, span.start.column) <= (where.line, where.column) <= (span.end.line, span.end.column):
                return small
        return None

    @staticmethod
    def _after(line: cst.SimpleStatementLine | cst.SimpleStatementSuite, statement: cst.BaseSmallStatement) -> Any:
        if isinstance(line, cst.SimpleStatementSuite):
            return line.with_changes(body=[*line.body, statement])
        return cst.FlattenSentinel([line, cst.SimpleStatementLine(body=[statement])])

    def _assign(self, line: cst.SimpleStatementLine | cst.SimpleStatementSuite, small: cst.BaseSmallStatement,
                receiver: str, accessor: str, *, pair: bool) -> Any:
        target = cst.Attribute(value=cst.parse_expression(receiver), attr=cst.Name(accessor))
        if isinstance(small, cst.Expr):
            if pair:
                targets: cst.BaseAssignTargetExpression = cst.Tuple(
                    [cst.Element(target), cst.Element(cst.Name(self._placeholder()))], lpar=[], rpar=[])
            else:
                targets = target
            assign = cst.Assign(targets=[cst.AssignTarget(targets)], value=small.value, semicolon=small.semicolon)
            return line.with_changes(body=[assign if s is small else s for s in line.body])
        if isinstance(small, cst.Assign):
            if not pair:
                assign = small.with_changes(targets=[*small.targets, cst.AssignTarget(target)])
                return line.with_changes(body=[assign if s is small else s for s in line.body])
            first = small.targets[0].target
            if len(small.targets) == 1 and isinstance(first, (cst.Tuple, cst.List)) and first.elements \
                    and isinstance(first.elements[0].value, cst.Name):
                name = first.elements[0].value.value
                return self._after(line, cst.Assign(targets=[cst.AssignTarget(target)], value=cst.Name(name)))
            return None
        if isinstance(small, cst.Return) and not pair and isinstance(line, cst.SimpleStatementLine) \
                and len(line.body) == 1 and small.value is not None:
            assign = cst.Assign(targets=[cst.AssignTarget(target)], value=small.value)
            back = cst.Return(value=cst.Attribute(value=cst.parse_expression(receiver), attr=cst.Name(accessor)))
            return cst.FlattenSentinel([line.with_changes(body=[assign]), cst.SimpleStatementLine(body=[back])])
        return None

    def _placeholder(self) -> str:
        """``_`` unless the module uses ``_`` (gettext): assigning it would make it local."""
        if "_" in self.context.facts.get("imports", {}) or re.search(r"(?<![\w.])_\(", self.context.text):
            return "_created"
        return "_"
