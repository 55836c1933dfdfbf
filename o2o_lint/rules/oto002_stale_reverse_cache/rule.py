"""OTO002: a reverse one-to-one read caches its answer; a later write makes it stale.

Reading a reverse one-to-one accessor (``company.address``, ``user.profile``, the
multi-table inheritance accessor ``place.restaurant``) stores the answer on the
instance, *including "there is none"*: ``hasattr(obj, "rel")``, ``getattr(obj, "rel",
None)`` and ``try: obj.rel / except Rel.DoesNotExist`` all cache it (Django 1.7 to 6.1
alike); so do the same reads on each element in a comprehension, ``any()``/``all()`` or
``filter(lambda ...)`` (a later loop over those elements starts with the cache), and
``select_related("rel")`` / ``prefetch_related("rel")``, with no read at all. A later write to the relation that does not go through that very instance
leaves ``obj.rel`` wrong until the instance is refreshed:

* after an absence was cached: ``Rel.objects.create(owner_id=obj.pk)``,
  ``Rel(owner_id=obj.pk).save()``, ``rel.owner_id = obj.pk; rel.save()``, a create
  through another instance of the same row (``owner=Owner.objects.get(pk=obj.pk)``),
  ``QuerySet.update(owner=obj)``, ``get_or_create`` / ``update_or_create`` keyed by
  ``owner_id`` (or with ``defaults={"owner_id": ...}``), factory_boy ``RelFactory(owner_id=...)``
  and model_bakery ``baker.make(Rel, owner_id=...)`` (also in a factory's ``post_generation``
  hook, whose first parameter is the created instance), ``bulk_create`` / ``bulk_update``
  of such rows (of a comprehension: for every element, the receiver ``xs[i]``);
* after a presence was cached: ``obj.rel.delete()`` (also ``delete(keep_parents=True)``
  of a multi-table child), ``Rel.objects.filter(owner=obj).delete()``, moving the row to
  another owner (``update()``, or ``rel.owner = other; rel.save()``); a ``delete()`` or
  ``update(owner=other)`` of the rows a custom manager or queryset method selects by
  ``obj`` (``return self.filter(owner=owner)``, through straight-line locals too), and an
  ``update(owner_id=obj.pk)`` through any custom method (verified on 4.2, 5.2 and 6.1).
* any of these deferred with ``transaction.on_commit(lambda: ...)`` or ``on_commit(partial(...))``
  in a ``with transaction.atomic(durable=True):`` block, whose end is the commit (a durable
  block is the outermost): a write at the end of the block, reported without a fix.
  Elsewhere the commit may be a caller's (or ``ATOMIC_REQUESTS``'): not followed (verified
  on 4.2, 5.2 and 6.1: after an inner block the cache still agrees with the database).
  Nor in a durable block holding a ``raise``, an ``assert`` or ``set_rollback(...)``: it may
  roll back, and Django drops its ``on_commit()`` jobs (verified on 4.2, 5.2 and 6.1).

Django 6.1's ``fetch_mode(FETCH_PEERS)``: one read of ``o.rel`` (a plain ``o.rel`` too) on any
instance a queryset fetched caches the answer on every one of them (verified on 6.1), so in a
loop over such a queryset a write by id in the body follows the read of an earlier iteration
(``for o in qs: Rel.objects.create(owner_id=o.pk); hasattr(o, "rel")`` is right without the
fetch mode, stale from the second element with it); not ``.iterator()``, whose peers are only
the instances fetched so far (verified: right).

Writes through the instance refresh the cache themselves and are never reported:
``Rel.objects.create(owner=obj)``, ``Rel(owner=obj).save()``, ``rel.owner = obj;
rel.save()``, ``obj.rel = rel``; so is saving the related row's own fields.
Nor writes that write nothing or are on another object: a factory_boy factory whose
``Meta.strategy`` (its own or its base factory's) is not create, called (``build()``
runs); ``filter(owner=obj).update(owner=obj)`` (the rows stay ``obj``'s); a write after
calling a function that rebinds the receiver through ``nonlocal`` / ``global``.

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
* When the code tells the receiver's model (:mod:`o2o_lint.index.receivers`: an annotation,
  ``self`` of a model, ``Model.objects.get(...)``, a loop over a queryset, ``request.user``,
  ``get_user_model()``), that model must be able to have the accessor: its own, its
  multi-table parents', a proxy's model's (an abstract base's ``%(class)s`` name included),
  or a subclass's or proxy's (the instance may be one). Otherwise the read caches nothing
  (``AttributeError``) and assigning the written row would add a plain attribute that
  turns the next ``hasattr()`` around (Django 4.2, 5.2, 6.1): no finding, no call into a
  writer, and a writer whose parameter is such a receiver is none.

Only a stale answer that can be observed is reported: a later read of the accessor on
the receiver (in the function, or in the next iteration of a loop that does not rebind
the receiver), or the receiver escaping, so that a caller or a callee can read it: a
parameter (the elements of an iterated parameter too) or ``self``, a module-level name,
or a receiver returned, yielded, stored, passed to a call or used as a method's instance
after the write. The message says which (the line of the read, or how it escapes). The
read must be reachable from the write: not cut off by a ``return``, ``raise``, ``break`` or
``continue`` standing after the write in its block or an enclosing one (a caught ``raise``,
an inner loop's ``break``, a ``finally`` still reach it); the next iteration only when the
loop can go on from the write. A
loop that creates the missing rows by ``owner_id=`` and moves on, or a management
command whose local is never read again, is not reported. A name the function does not
bind (a global) escapes. A receiver reached through an attribute (``request.user``,
``self.event``) escapes as that very expression, or when its root is returned, yielded,
stored or passed to a call after the write (``render(request, ...)``); that a caller
might reach it through its root's forward cache is not assumed otherwise.

Repairs (no finding after them), verified on Django 4.2 and 5.2: ``refresh_from_db()``
(``fields=[...]`` naming the relation; other fields only up to 5.0), an assignment of
the accessor, ``x._state.fields_cache.pop("rel", None)``, ``.clear()`` and
``del x._state.fields_cache["rel"]`` (private, but effective), and a later write through
the instance (``Rel.objects.create(owner=x)``, ``Rel(owner=x)``), which sets the cache
again. ``del x.rel`` is no repair: the reverse descriptor has no ``__delete__``
(AttributeError).

Where the write sits in another function (``company.create_address()`` writing on
``self``, ``ensure_profile(user)`` writing on its parameter, in any module; a custom
manager's or queryset's method, ``Profile.objects.ensure_for(user)``, in the model's
module or imported into it), the index's
per-function summaries say so: the call is reported, and the writer's own write gets
the finding and the fix, so that every caller is right and a second ``--fix`` run
changes nothing. A pytest test's parameter naming a fixture of its module or of a
``conftest.py`` above it (defined once there) is followed when the test calls it: a
fixture returning a nested function (a "factory as fixture", a writer as above), or
pytest-factoryboy's ``profile_factory`` that ``register(ProfileFactory)`` makes (the
factory class: ``profile_factory(owner_id=...)`` is its write); verified with pytest on
4.2, 5.2 and 6.1.

The fixes keep the write: a write that returns the related object is assigned to the
accessor (``obj.rel = Rel.objects.create(owner_id=obj.pk)``, zero queries;
``obj.rel, _ = Rel.objects.get_or_create(...)``; an async one only awaited); any other
write is followed by ``obj.refresh_from_db(fields=["<query name>"])`` (the relation's query
name: ``related_query_name`` when given), right after its statement. That refresh also
drops the primary key's cached object when the key is a relation (every version), and on
Django 2.0-5.0 every other reverse one-to-one and ``GenericForeignKey`` cache of the
instance, with their unsaved edits (verified on 4.2; 5.2 and 6.1 keep them): it is a safe
fix only when the receiver's model rules that out (or the project targets 5.1+), else an
unsafe one. No fix inside ``atomic()`` but for a ``return`` (a rollback makes the stale
answer right again, and an assigned row would be saved back), nor when the statement uses the write's result
(yielded, passed to a call: a refresh after it comes too late). Never a bare
``refresh_from_db()`` (it discards unsaved edits) nor ``fields=[<another field>]`` (which
stopped clearing the cache in Django 5.1). In ``async def`` never a refresh: it empties the
cache and the next ``hasattr()`` raises ``SynchronousOnlyOperation`` (verified on 4.2, 5.2,
6.1); only the assignment of an awaited create.

Not stale writes, not reported: an async call not awaited where it stands, a write to
another database (``using()``, ``db_manager()``, ``save(using=...)``), a ``get_or_create`` /
``update_or_create`` whose literal ``defaults`` / ``create_defaults`` set the looked-up
field (the created row is another owner's), and a manager or queryset method whose class
several models use (whose rows it writes is the caller's choice).
"""

from __future__ import annotations

import keyword
import re
from typing import Any, ClassVar

import libcst as cst

from o2o_lint.django_api import ASYNC_TWINS, DELETES, MODEL_BASES, RETURNS_OBJECT, RETURNS_PAIR, UPDATES
from o2o_lint.config import NEWEST_DJANGO
from o2o_lint.findings import Fix
from o2o_lint.rules.base import FileContext, Invalid, Valid
from o2o_lint.rules.oto002_stale_reverse_cache.facts import SAVE_METHODS
from o2o_lint.rules.oto002_stale_reverse_cache.records import Op, Write
from o2o_lint.rules.oto002_stale_reverse_cache.screen import StaleReverseCacheScreen
from o2o_lint.rules.oto002_stale_reverse_cache.summaries import Found, StaleWrites
from o2o_lint.rules.visitor import LintRule
from o2o_lint.sourcefile import char_column, split_lines

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

_CLUB_MANAGERS = '''\
from django.db import models


class MemberQuerySet(models.QuerySet):
    def drop_for(self, person):
        self.filter(person=person).delete()

    def of(self, person):
        return self.filter(person=person)

    def named(self, name):
        return self.filter(person__name=name)

    def mine(self, person):
        rows = self.filter(person=person)
        return rows.order_by("pk")

    def picked(self, person):
        if person is None:
            return self.none()
        return self.filter(person=person)


class CardManager(models.Manager):
    def drop_for(self, person):
        self.filter(person=person).delete()
'''

_CLUB_MODELS = '''\
from django.db import models

from club.managers import CardManager, MemberQuerySet


class Person(models.Model):
    name = models.CharField(max_length=50)


class Member(models.Model):
    person = models.OneToOneField(Person, models.CASCADE, related_name="member")
    objects = models.Manager.from_queryset(MemberQuerySet)()


class Card(models.Model):
    person = models.OneToOneField(Person, models.CASCADE, related_name="card")
    objects = CardManager()
'''

_FACTORIES = '''\
import factory

from shop.models import Owner, Profile


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    owner = factory.SubFactory(OwnerFactory)
'''

_SETTINGS_MODELS = '''\
from django.conf import settings
from django.db import models


class Member(models.Model):
    name = models.CharField(max_length=50)


class Ticket(models.Model):
    member = models.OneToOneField(settings.TICKET_MEMBER_MODEL, models.CASCADE, related_name="ticket")


class Pass(models.Model):
    member = models.OneToOneField(getattr(settings, "PASS_MEMBER_MODEL", "club.Member"), models.CASCADE)


class Seat(models.Model):
    member = models.OneToOneField(settings.SEAT_MEMBER_MODEL, models.CASCADE, related_name="seat")
'''

_SWAPPER_MODELS = '''\
import swapper
from django.db import models


class Member(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        swappable = swapper.swappable_setting("club", "Member")


class Locker(models.Model):
    member = models.OneToOneField(swapper.get_model_name("club", "Member"), models.CASCADE, related_name="locker")
'''

_SWAPPER_ALT_MODELS = '''\
from django.db import models


class Member(models.Model):
    name = models.CharField(max_length=50)
'''

_PYTEST_CONFTEST = '''\
import pytest
from pytest_factoryboy import register

from shop.factories import ProfileFactory
from shop.models import Owner, Profile

register(ProfileFactory)


@pytest.fixture
def owner(db):
    return Owner.objects.create()


@pytest.fixture
def make_profile(db):
    def _make(owner, **fields):
        return Profile.objects.create(owner_id=owner.pk, **fields)
    return _make
'''


#: Models of the fix-safety cases: ``Solo`` has one reverse one-to-one and a plain primary key
#: (its refresh drops nothing else), ``Member``'s primary key is a one-to-one.
_SAFETY_MODELS = '''\
from django.db import models


class Solo(models.Model):
    name = models.CharField(max_length=50)


class Desk(models.Model):
    solo = models.OneToOneField(Solo, models.CASCADE, related_name="desk")


class Account(models.Model):
    name = models.CharField(max_length=50)


class Member(models.Model):
    account = models.OneToOneField(Account, models.CASCADE, primary_key=True, related_name="member")


class Ribbon(models.Model):
    member = models.OneToOneField(Member, models.CASCADE, related_name="ribbon")
'''

#: ``request.user`` is an instance of the user model: here ``Owner``.
_USER_IS_OWNER = 'AUTH_USER_MODEL = "shop.Owner"\n'

#: Receivers of known models: ``Guest`` has no ``ticket`` (``Host`` has); ``Restaurant`` (multi-table)
#: and ``ProxyPlace`` have ``Place``'s ``lease``; the user model (``auth.User``) has ``badge``.
_RECEIVER_MODELS = '''\
from django.conf import settings
from django.db import models


class Host(models.Model):
    name = models.CharField(max_length=50, default="")


class Guest(models.Model):
    name = models.CharField(max_length=50, default="")


class Ticket(models.Model):
    holder = models.OneToOneField(Host, models.CASCADE, related_name="ticket")


class Place(models.Model):
    name = models.CharField(max_length=50, default="")


class Restaurant(Place):
    pass


class ProxyPlace(Place):
    class Meta:
        proxy = True


class Lease(models.Model):
    place = models.OneToOneField(Place, models.CASCADE, related_name="lease")


class Licence(models.Model):
    restaurant = models.OneToOneField(Restaurant, models.CASCADE, related_name="licence")


class Stamped(models.Model):
    owner = models.OneToOneField(Host, models.CASCADE, related_name="%(class)s_card")

    class Meta:
        abstract = True


class LoyaltyCard(Stamped):
    pass


class Badge(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="badge")
'''

#: A user model of the project's own; no module sets ``AUTH_USER_MODEL``.
_CUSTOM_USER_MODELS = '''\
from django.contrib.auth.models import AbstractUser
from django.db import models


class Member(AbstractUser):
    pass


class Card(models.Model):
    member = models.OneToOneField(Member, models.CASCADE, related_name="card")
'''


class StaleReverseCache(StaleReverseCacheScreen, LintRule):
    VALID = [
        # The everyday safe form: the create goes through the instance, Django updates its cache.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner=owner)
            """,
            files={"shop/models.py": _MODELS},
            id="create-through-instance",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile(owner=owner, bio='').save()
            """,
            files={"shop/models.py": _MODELS},
            id="save-through-instance",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    profile = Profile()
                    profile.owner = owner
                    profile.save()
            """,
            files={"shop/models.py": _MODELS},
            id="owner-assigned-then-saved",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    owner.profile = Profile(owner_id=owner.pk)
                    owner.profile.save()
            """,
            files={"shop/models.py": _MODELS},
            id="accessor-assigned-then-saved",
        ),
        # Saving the related row's own fields is not a relation write.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def rename(owner, bio):
                if hasattr(owner, 'profile'):
                    owner.profile.bio = bio
                    owner.profile.save()
                    Profile.objects.filter(owner=owner).update(bio=bio)
            """,
            files={"shop/models.py": _MODELS},
            id="own-fields-saved",
        ),
        # A refresh (full, or naming the relation's query name) or an accessor assignment clears it.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                    owner.refresh_from_db()
            """,
            files={"shop/models.py": _MODELS},
            id="full-refresh",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'badge'):
                    Badge.objects.create(owner_id=owner.pk)
                owner.refresh_from_db(fields=['badge_q'])
            """,
            files={"shop/models.py": _MODELS},
            id="refresh-by-query-name",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    profile = Profile.objects.create(owner_id=owner.pk)
                    owner.profile = profile
            """,
            files={"shop/models.py": _MODELS},
            id="created-then-assigned-to-accessor",
        ),
        # Not the same receiver: rebound in between, or another object.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    owner = Owner.objects.get(pk=owner.pk)
                    Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="receiver-rebound",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner, other):
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=other.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="other-object-written",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner, owners):
                if not hasattr(owner, 'profile'):
                    for owner in owners:
                        Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="receiver-rebound-by-loop",
        ),
        # Not a reverse one-to-one accessor: the relation says related_name="supervisor_of".
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def supervise(user, other):
                if not hasattr(user, 'supervision'):
                    MySpecialUser.objects.create(user_id=other.pk, supervisor_id=user.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="not-a-reverse-accessor",
        ),
        # `user` is Owner's accessor for Account.person, but this write is Profile.owner's: no tie.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def view(request):
                if hasattr(request, 'user'):
                    Profile.objects.create(owner_id=request.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="accessor-of-another-relation",
        ),
        # `user` is a forward field of MySpecialUser (and Owner's reverse accessor for Account):
        # the read is of the forward field, and the write ties `other`, not `special`.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def reassign(special, other):
                if hasattr(special, 'user'):
                    MySpecialUser.objects.filter(pk=special.pk).update(user=other)
            """,
            files={"shop/models.py": _MODELS},
            id="forward-field-read",
        ),
        # A ForeignKey, and a class that is no model, are not one-to-one relations.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def note(owner):
                if not hasattr(owner, 'profile'):
                    Comment.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="foreign-key-write",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            class Cache:
                objects = None


            def note(owner):
                if not hasattr(owner, 'profile'):
                    Cache.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="class-that-is-no-model",
        ),
        # `self` of a class that is neither a model nor a model's mixin owns no reverse relation.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            class Upload:
                def cleanup(self):
                    if hasattr(self, 'profile'):
                        self.profile.delete()
            """,
            files={"shop/models.py": _MODELS},
            id="self-of-non-model-class",
        ),
        # The write does not follow the read: before it, or in a sibling branch.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                Profile.objects.create(owner_id=owner.pk)
                return hasattr(owner, 'profile')
            """,
            files={"shop/models.py": _MODELS},
            id="write-before-read",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner, flag):
                if flag:
                    cached = hasattr(owner, 'profile')
                else:
                    Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="write-in-sibling-branch",
        ),
        # Decision: get_or_create/update_or_create through the instance are not reported (docstring).
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.get_or_create(owner=owner)
                    Profile.objects.update_or_create(owner=owner, defaults={'bio': ''})
            """,
            files={"shop/models.py": _MODELS},
            id="get-or-create-through-instance",
        ),
        # Decision: deleting a multi-table child without keep_parents deletes the receiver too.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def close(place):
                if hasattr(place, 'restaurant'):
                    place.restaurant.delete()
            """,
            files={"shop/models.py": _MODELS},
            id="multi-table-child-deleted",
        ),
        # No guarded read at all; a handler that does not catch DoesNotExist.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                owner.profile.delete()
            """,
            files={"shop/models.py": _MODELS},
            id="no-guarded-read",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner, data):
                try:
                    data[owner.profile]
                except KeyError:
                    Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="handler-without-does-not-exist",
        ),
        # A writer no caller reads before: nothing is stale.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def create_profile(owner):
                Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="writer-without-reading-caller",
        ),
        # The caller reads another object than the one the writer writes.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def setup(company, other):
                if not hasattr(company, 'address'):
                    other.create_address()
            """,
            files={"shop/models.py": _MODELS},
            id="caller-reads-another-object",
        ),
        # Comprehensions and lambdas have their own scope.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners):
                if not hasattr(owners[0], 'profile'):
                    [Profile.objects.create(owner_id=o.pk) for o in owners]
            """,
            files={"shop/models.py": _MODELS},
            id="write-in-comprehension",
        ),
        # The writer was fixed: a second run finds nothing at the call site either.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from shop.services import ensure_profile


            def login(owner):
                if not hasattr(owner, 'profile'):
                    ensure_profile(owner)
                return owner.profile
            """,
            files={
                "shop/models.py": _MODELS,
                "shop/services.py": """
                    from shop.models import Profile


                    def ensure_profile(owner):
                        owner.profile, _ = Profile.objects.get_or_create(owner_id=owner.pk)
                """,
            },
            id="writer-already-fixed",
        ),
        # A `# noqa` comment suppresses the finding.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)  # noqa: OTO002
            """,
            files={"shop/models.py": _MODELS},
            id="noqa-comment",
        ),
        # Unobservable: the stale instance is never read again and does not escape (a loop creating the
        # missing rows and moving on; a management command). Nothing can see the stale answer.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def backfill():
                for owner in Owner.objects.all():
                    if not hasattr(owner, 'profile'):
                        Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="unobservable-loop-over-queryset",
        ),
        # The same, in a management command's handle(): `owner` is a local, never read again.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.core.management.base import BaseCommand


            class Command(BaseCommand):
                def handle(self, *args, **options):
                    owner = Owner.objects.get(pk=options['owner'])
                    if hasattr(owner, 'profile'):
                        Profile.objects.filter(owner=owner).delete()
                    self.stdout.write('removed')
            """,
            files={"shop/models.py": _MODELS},
            id="unobservable-management-command",
        ),
        # A receiver reached through an attribute (`comment.owner`), not read again and not passed on:
        # that a caller might reach it through its root's forward cache is not assumed (pretix's
        # KnownDomain.save(): `self.event.alternative_domain_assignment.delete()`).
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(comment):
                if hasattr(comment.owner, 'profile'):
                    comment.owner.profile.delete()
                return comment.pk
            """,
            files={"shop/models.py": _MODELS},
            id="unobservable-attribute-receiver",
        ),
        # Repairs of the private cache dict (Django 4.2 and 5.2 alike, verified): pop(), clear(), del.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner, other, third):
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                    owner._state.fields_cache.pop('profile', None)
                if not hasattr(other, 'profile'):
                    Profile.objects.create(owner_id=other.pk)
                    other._state.fields_cache.clear()
                if not hasattr(third, 'profile'):
                    Profile.objects.create(owner_id=third.pk)
                    del third._state.fields_cache['profile']
            """,
            files={"shop/models.py": _MODELS},
            id="fields-cache-repairs",
        ),
        # A later write through the instance sets the cache again (verified on Django 4.2 and 5.2).
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def replace(owner):
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).delete()
                    Profile.objects.create(owner=owner)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="deleted-then-created-through-instance",
        ),
        # The same delete on a local that is never read again and does not escape.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(pk):
                owner = Owner.objects.get(pk=pk)
                if hasattr(owner, 'profile'):
                    current = owner.profile
                    current.delete()
                print(owner.name)
            """,
            files={"shop/models.py": _MODELS},
            id="unobservable-local-delete",
        ),
        # The manager's model (Card) is not the relation read (`profile`): no finding.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.db import models


            class CardManager(models.Manager):
                def drop_for(self, owner):
                    self.filter(owner=owner).delete()


            class Card(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name='card')
                objects = CardManager()


            def logout(owner):
                if hasattr(owner, 'profile'):
                    Card.objects.drop_for(owner)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="manager-of-another-relation",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def backfill():
                owners = list(Owner.objects.all())
                missing = [o for o in owners if not hasattr(o, 'profile')]
                for o in missing:
                    Profile.objects.create(owner_id=o.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="element-read-local-unobserved",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners, flag):
                if flag:
                    missing = [o for o in owners if not hasattr(o, 'profile')]
                else:
                    for o in owners:
                        Profile.objects.create(owner_id=o.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="element-read-in-sibling-branch",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners, other):
                missing = [o for o in owners if not hasattr(other, 'profile')]
                for o in owners:
                    Profile.objects.create(owner_id=o.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="element-read-of-another-name",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def touch(pk):
                owner = Owner.objects.select_related('profile').get(pk=pk)
                Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="select-related-not-observed",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.select_related('profile').get(pk=pk)
                Profile.objects.create(owner=owner)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="select-related-then-create-by-instance",
        ),
        # A manager of another module writing another relation than the one read.
        Valid(
            """
            from club.models import Card


            def leave(person):
                if hasattr(person, 'member'):
                    Card.objects.drop_for(person)
                return person
            """,
            files={"club/models.py": _CLUB_MODELS, "club/managers.py": _CLUB_MANAGERS},
            id="manager-elsewhere-other-relation",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def backfill():
                owners = list(Owner.objects.all())
                missing = [o for o in owners if not hasattr(o, 'profile')]
                Profile.objects.bulk_create([Profile(owner_id=o.pk) for o in missing])
            """,
            files={"shop/models.py": _MODELS},
            id="bulk-create-unobserved",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.bulk_create([Profile(owner=owner)])
            """,
            files={"shop/models.py": _MODELS},
            id="bulk-create-through-instance",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(pk, owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.update_or_create(pk=pk, defaults={'owner': owner})
            """,
            files={"shop/models.py": _MODELS},
            id="defaults-through-instance",
        ),
        # A generator bound to a name reads nothing until consumed (here: never).
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners):
                pending = (o for o in owners if not hasattr(o, 'profile'))
                for o in owners:
                    Profile.objects.create(owner_id=o.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="unconsumed-generator",
        ),
        # get_or_create's defaults only apply when it creates: the found row is not owner's
        # (assigning it would be wrong); not taken as a write.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(pk, owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.get_or_create(pk=pk, defaults={'owner_id': owner.pk})
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="get-or-create-defaults",
        ),
        # A custom queryset method selecting by another field than the relation.
        Valid(
            """
            from club.models import Member


            def leave(person):
                if hasattr(person, 'member'):
                    Member.objects.named(person.name).delete()
                return person
            """,
            files={"club/models.py": _CLUB_MODELS, "club/managers.py": _CLUB_MANAGERS},
            id="queryset-method-other-field",
        ),
        # An update through a custom queryset method that sets the relation to the very owner
        # it selects by: the rows are the owner's already (not stale, verified).
        Valid(
            """
            from club.models import Member


            def touch(person):
                if hasattr(person, 'member'):
                    Member.objects.of(person).update(person=person)
                return person
            """,
            files={"club/models.py": _CLUB_MODELS, "club/managers.py": _CLUB_MANAGERS},
            id="queryset-update-same-owner",
        ),
        # A method that is not straight-line (a branch): which rows it returns is unsure: silent.
        Valid(
            """
            from club.models import Member


            def leave(person):
                if hasattr(person, 'member'):
                    Member.objects.picked(person).delete()
                return person
            """,
            files={"club/models.py": _CLUB_MODELS, "club/managers.py": _CLUB_MANAGERS},
            id="queryset-method-with-branches",
        ),
        # in_bulk() re-fetches: new instances with empty caches (the rebound name reads the row);
        # the old instance is not repaired (verified on 4.2, 5.2, 6.1), but nothing reads it again.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                owner = Owner.objects.in_bulk([pk])[pk]
                return owner.profile
            """,
            files={"shop/models.py": _MODELS},
            id="in-bulk-refetch",
        ),
        # A local queryset rebound to other rows before the delete.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def purge(owner, bio):
                if hasattr(owner, 'profile'):
                    rows = Profile.objects.filter(owner=owner)
                    rows = Profile.objects.filter(bio=bio)
                    rows.delete()
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="local-queryset-rebound",
        ),
        # A setting no settings module of the project assigns: the target is unknown.
        Valid(
            """
            from club.models import Seat


            def ensure(member):
                if not hasattr(member, 'seat'):
                    Seat.objects.create(member_id=member.pk)
                return member
            """,
            files={"club/models.py": _SETTINGS_MODELS, "site/settings.py": 'TICKET_MEMBER_MODEL = "club.Member"\n'},
            id="unknown-setting-target",
        ),
        # factory_boy: a factory given the instance goes through it; build() saves nothing.
        Valid(
            """
            from shop.factories import OwnerFactory, ProfileFactory


            def test_profile():
                owner = OwnerFactory()
                assert not hasattr(owner, 'profile')
                ProfileFactory(owner=owner)
                ProfileFactory.build(owner_id=owner.pk)
                assert owner.profile
            """,
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES},
            id="factory-through-instance",
        ),
        # A post_generation hook of a class that is no model factory: its first parameter is unknown.
        Valid(
            """
            import factory

            from shop.factories import ProfileFactory


            class Helpers:
                @factory.post_generation
                def profile(obj, create, extracted, **kwargs):
                    if not hasattr(obj, 'profile'):
                        ProfileFactory(owner_id=obj.pk)
            """,
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES},
            id="hook-outside-a-factory",
        ),
        # transaction.on_commit() outside a durable block: the write runs at the outermost
        # commit, which the function cannot see (a caller's atomic(), ATOMIC_REQUESTS): silent.
        Valid(
            """
            from functools import partial

            from django.db import transaction

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    transaction.on_commit(lambda: Profile.objects.create(owner_id=owner.pk))
                    with transaction.atomic():
                        transaction.on_commit(partial(Profile.objects.create, owner_id=owner.pk))
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="on-commit-not-followed",
        ),
        # In a durable block, a read before its end still precedes the commit: right then.
        Valid(
            """
            from django.db import transaction

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                with transaction.atomic(durable=True):
                    if not hasattr(owner, 'profile'):
                        transaction.on_commit(lambda: Profile.objects.create(owner_id=owner.pk))
                    print(hasattr(owner, 'profile'))
            """,
            files={"shop/models.py": _MODELS},
            id="on-commit-read-before-commit",
        ),
        # -- Django 6.1 fetch modes --------------------------------------------------------
        # Without fetch_mode(FETCH_PEERS) each element's read is its own (FETCH_ONE, the default):
        # creating the row by id before the read is right (verified on 4.2, 5.2 and 6.1).
        Valid(
            """
            from django.db import models

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                for o in Owner.objects.fetch_mode(models.FETCH_ONE):
                    Profile.objects.get_or_create(owner_id=o.pk)
                    print(hasattr(o, 'profile'))
                for o in Owner.objects.all():
                    Profile.objects.get_or_create(owner_id=o.pk)
                    print(hasattr(o, 'profile'))
            """,
            files={"shop/models.py": _MODELS},
            id="fetch-one-loop",
        ),
        # .iterator(): an element's peers are the instances fetched so far, whose own reads came
        # first: a later element is never filled ahead of its write (verified on 6.1).
        Valid(
            """
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                for o in Owner.objects.fetch_mode(FETCH_PEERS).iterator(chunk_size=100):
                    Profile.objects.create(owner_id=o.pk)
                    print(hasattr(o, 'profile'))
            """,
            files={"shop/models.py": _MODELS},
            id="fetch-peers-iterator",
        ),
        # A loop that creates the missing rows by id and moves on: nothing reads the stale answer.
        Valid(
            """
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    if not hasattr(o, 'profile'):
                        Profile.objects.create(owner_id=o.pk)
            """,
            files={"shop/models.py": _MODELS},
            id="fetch-peers-moves-on",
        ),
        # Writes through the element set its cache (verified on 6.1); so does the assignment.
        Valid(
            """
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    Profile.objects.create(owner=o)
                    print(hasattr(o, 'profile'))
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    o.profile = Profile.objects.create(owner_id=o.pk)
                    print(hasattr(o, 'profile'))
            """,
            files={"shop/models.py": _MODELS},
            id="fetch-peers-through-instance",
        ),
        # Not Django's FETCH_PEERS; a body that rebinds the element (a fresh instance, no peers)
        # or leaves the loop after its first element: silent.
        Valid(
            """
            from django.db.models import FETCH_PEERS

            from shop.modes import FETCH_PEERS as PEERS
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                for o in Owner.objects.fetch_mode(PEERS):
                    Profile.objects.create(owner_id=o.pk)
                    print(hasattr(o, 'profile'))
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    o = Owner.objects.get(pk=o.pk)
                    Profile.objects.create(owner_id=o.pk)
                    print(hasattr(o, 'profile'))
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    Profile.objects.create(owner_id=o.pk)
                    print(hasattr(o, 'profile'))
                    break
            """,
            files={"shop/models.py": _MODELS, "shop/modes.py": "FETCH_PEERS = object()\n"},
            id="fetch-peers-not-followed",
        ),
        # A later fetch_mode() wins; values_list() fetches no instances.
        Valid(
            """
            from django.db import models

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                for o in Owner.objects.fetch_mode(models.FETCH_PEERS).filter(name='a').fetch_mode(models.FETCH_ONE):
                    Profile.objects.create(owner_id=o.pk)
                    print(hasattr(o, 'profile'))
                for pk in Owner.objects.fetch_mode(models.FETCH_PEERS).values_list('pk', flat=True):
                    Profile.objects.create(owner_id=pk)
            """,
            files={"shop/models.py": _MODELS},
            id="fetch-peers-overridden",
        ),
        # An unguarded o.profile before the write in every iteration raised (the loop ends) or
        # found the element's row: get_or_create by id then finds it, nothing goes stale (6.1, run).
        Valid(
            """
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def touch_all():
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    bio = o.profile.bio
                    Profile.objects.get_or_create(owner_id=o.pk, defaults={'bio': bio})
                    print(hasattr(o, 'profile'))
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    if o.profile.bio:
                        Profile.objects.update_or_create(owner_id=o.pk, defaults={'bio': ''})
                    print(hasattr(o, 'profile'))
            """,
            files={"shop/models.py": _MODELS},
            id="fetch-peers-own-load-first",
        ),
        # swapper with a prefix the index cannot read: the setting, hence the target, is unknown.
        Valid(
            """
            from club.models import Locker


            def ensure(member):
                if not hasattr(member, 'locker'):
                    Locker.objects.create(member_id=member.pk)
                return member
            """,
            files={"club/models.py": _SWAPPER_MODELS,
                   "club/apps.py": "import swapper\n\nswapper.set_app_prefix('club', PREFIX)\n"},
            id="swapper-target-unknown-prefix",
        ),
        # pytest: a fixture the test calls that goes through the instance; a fixture defined in
        # two places pytest looks (here the module's overrides the conftest's: not followed,
        # although pytest would pick the module's) or a parameter ``parametrize`` gives: not followed.
        Valid(
            """
            import pytest

            from shop.models import Profile


            @pytest.fixture
            def make_profile(db):
                def _make(owner):
                    return Profile.objects.create(owner_id=owner.pk)
                return _make


            def test_through_instance(owner, profile_factory):
                assert not hasattr(owner, 'profile')
                profile_factory(owner=owner)
                assert owner.profile


            def test_overridden(owner, make_profile):
                assert not hasattr(owner, 'profile')
                make_profile(owner)
                assert owner.profile


            @pytest.mark.parametrize("profile_factory", [print])
            def test_parametrized(owner, profile_factory):
                assert not hasattr(owner, 'profile')
                profile_factory(owner_id=owner.pk)
                assert owner.profile
            """,
            path="tests/test_profiles.py",
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES, "tests/__init__.py": "",
                   "tests/conftest.py": _PYTEST_CONFTEST},
            id="pytest-fixtures-not-followed",
        ),
        # A fixture in a conftest.py pytest does not look at for this test (a sibling directory).
        Valid(
            """
            def test_profile(owner, make_profile):
                assert not hasattr(owner, 'profile')
                make_profile(owner)
                assert owner.profile
            """,
            path="tests/accounts/test_profiles.py",
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES, "tests/__init__.py": "",
                   "tests/accounts/__init__.py": "", "tests/shop/__init__.py": "",
                   "tests/shop/conftest.py": _PYTEST_CONFTEST},
            id="pytest-fixture-not-visible",
        ),
        # -- fix safety (the review of OTO002): writes that are not the receiver's -----------
        # The defaults give the created row to another owner: whether the lookup's owner gets a
        # row no one can tell (found) -- and assigning it moved `other`'s row on save (4.2-6.1).
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner, other):
                if not hasattr(owner, 'profile'):
                    Profile.objects.get_or_create(owner_id=owner.pk, defaults={'owner_id': other.pk})
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="defaults-set-the-owner",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner, other):
                if not hasattr(owner, 'profile'):
                    Profile.objects.update_or_create(owner_id=owner.pk, create_defaults=dict(owner=other))
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="create-defaults-set-the-owner",
        ),
        # An async create not awaited where it stands writes nothing there (the old fix assigned the
        # coroutine: ValueError, and the row was never created).
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            async def ensure(owner):
                if not hasattr(owner, 'profile'):
                    created = Profile.objects.acreate(owner_id=owner.pk)
                    await created
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="unawaited-async-create",
        ),
        # A manager class two models use: the call for `Stamp` does not write `owner.note`, and the
        # method's body cannot name one model's accessor (ValueError for the other model).
        Valid(
            """
            from django.db import models

            from shop.models import Owner


            class EnsureManager(models.Manager):
                def ensure_for(self, owner):
                    self.get_or_create(owner_id=owner.pk)


            class Note(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name='note')
                objects = EnsureManager()


            class Stamp(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name='stamp')
                objects = EnsureManager()


            def ensure(owner):
                if not hasattr(owner, 'note'):
                    Stamp.objects.ensure_for(owner)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="manager-shared-by-two-models",
        ),
        # Another database's rows: the receiver's own database has none, its cache is right (and
        # the router refuses the cross-database assignment: ValueError).
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def mirror(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.using('other').create(owner_id=owner.pk)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="write-to-another-database",
        ),
        # The receiver's model is known and has no such accessor (it is another model's): the
        # read caches nothing (AttributeError), and assigning the written row would add a plain
        # attribute, changing what the next hasattr() says (Django 4.2, 5.2, 6.1, verified).
        Valid(
            """
            from venue.models import Guest, Ticket


            def admit(guest: Guest):
                if not hasattr(guest, 'ticket'):
                    Ticket.objects.create(holder_id=guest.pk)
                return guest
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            id="annotated-receiver-lacks-accessor",
        ),
        Valid(
            """
            from venue.models import Guest, Ticket


            def admit(pk):
                guest = Guest.objects.get(pk=pk)
                if getattr(guest, 'ticket', None) is None:
                    Ticket.objects.create(holder_id=guest.pk)
                return guest
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            id="fetched-receiver-lacks-accessor",
        ),
        Valid(
            """
            from venue.models import Guest, Ticket


            def admit_all():
                for guest in Guest.objects.filter(name=''):
                    try:
                        guest.ticket
                    except Ticket.DoesNotExist:
                        Ticket.objects.create(holder_id=guest.pk)
                        print(guest.ticket)
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            id="loop-receiver-lacks-accessor",
        ),
        # `request.user` is the user model (`auth.User` here): `ticket` is not its accessor.
        Valid(
            """
            from venue.models import Ticket


            def admit(request):
                if not hasattr(request.user, 'ticket'):
                    Ticket.objects.create(holder_id=request.user.pk)
                return request.user
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            id="request-user-lacks-accessor",
        ),
        # ... and a user model of the project's own, named by `AUTH_USER_MODEL`.
        Valid(
            """
            from venue.models import Ticket


            def admit(request):
                if not hasattr(request.user, 'ticket'):
                    Ticket.objects.create(holder_id=request.user.pk)
                return request.user
            """,
            files={"venue/models.py": _RECEIVER_MODELS, "members/models.py": _CUSTOM_USER_MODELS,
                   "members/settings.py": 'AUTH_USER_MODEL = "members.Member"\n'},
            id="request-user-custom-lacks-accessor",
        ),
        # A writer whose parameter is known to lack the accessor is no writer of it: neither the
        # call nor the write is reported.
        Valid(
            """
            from venue.models import Guest, Ticket


            def ensure_ticket(guest: Guest):
                Ticket.objects.create(holder_id=guest.pk)


            def admit(person):
                if not hasattr(person, 'ticket'):
                    ensure_ticket(person)
                return person
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            id="writer-parameter-lacks-accessor",
        ),
        # ... nor is a call from a reader whose receiver lacks it (the writer's parameter is unknown).
        Valid(
            """
            from venue.models import Guest, Ticket


            def ensure_ticket(person):
                Ticket.objects.create(holder_id=person.pk)


            def admit(guest: Guest):
                if not hasattr(guest, 'ticket'):
                    ensure_ticket(guest)
                return guest
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            id="caller-receiver-lacks-accessor",
        ),
        # ... nor one passing a parameter known to lack it on to a writer (the writer is not
        # reported for this caller either).
        Valid(
            """
            from venue.models import Guest, Ticket


            def ensure_ticket(person):
                Ticket.objects.create(holder_id=person.pk)


            def reissue(guest: Guest):
                Ticket.objects.filter(holder_id=guest.pk).delete()
                ensure_ticket(guest)


            def admit(person):
                if hasattr(person, 'ticket'):
                    reissue(person)
                return person
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            id="passing-parameter-lacks-accessor",
        ),
        # -- a later read that cannot run after the write, or a write that never runs -------
        # An exit right after the write (break, return, raise, continue): the read below it
        # cannot follow the write (verified on 4.2, 5.2 and 6.1).
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk, attempts):
                owner = Owner.objects.get(pk=pk)
                for attempt in range(attempts):
                    if not hasattr(owner, 'profile'):
                        Profile.objects.create(owner_id=owner.pk)
                        break
                    print(owner.profile.bio)
            """,
            files={"shop/models.py": _MODELS},
            id="write-then-break",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                    return 'created'
                return owner.profile.bio
            """,
            files={"shop/models.py": _MODELS},
            id="write-then-return",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                    raise LookupError('created a profile')
                return owner.profile.bio
            """,
            files={"shop/models.py": _MODELS},
            id="write-then-raise",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fill(pks):
                for pk in pks:
                    owner = Owner.objects.get(pk=pk)
                    if not hasattr(owner, 'profile'):
                        Profile.objects.create(owner_id=owner.pk)
                        continue
                    print(owner.profile.bio)
            """,
            files={"shop/models.py": _MODELS},
            id="write-then-continue",
        ),
        # The loop's last statement rebinds the receiver: its next iteration reads another object.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fill(pks):
                owner = Owner.objects.get(pk=pks[0])
                for pk in pks[1:]:
                    if not hasattr(owner, 'profile'):
                        Profile.objects.create(owner_id=owner.pk)
                    owner = Owner.objects.get(pk=pk)
            """,
            files={"shop/models.py": _MODELS},
            id="loop-rebinds-receiver-last",
        ),
        # A durable block that may end by an exception (a raise, set_rollback()) rolls back, and
        # Django discards its on_commit() jobs: which way it ends is not followed (silent).
        Valid(
            """
            from django.db import transaction

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            class Abort(Exception):
                pass


            def ensure(pk, dry_run):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    try:
                        with transaction.atomic(durable=True):
                            transaction.on_commit(lambda: Profile.objects.create(owner_id=owner.pk))
                            if dry_run:
                                raise Abort
                    except Abort:
                        pass
                return hasattr(owner, 'profile')
            """,
            files={"shop/models.py": _MODELS},
            id="on-commit-durable-may-raise",
        ),
        Valid(
            """
            from django.db import transaction

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk, dry_run):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    with transaction.atomic(durable=True):
                        transaction.on_commit(lambda: Profile.objects.create(owner_id=owner.pk))
                        transaction.set_rollback(dry_run)
                return hasattr(owner, 'profile')
            """,
            files={"shop/models.py": _MODELS},
            id="on-commit-durable-set-rollback",
        ),
        # factory_boy: calling a factory whose Meta.strategy is build or stub (its own Meta's, or
        # inherited from its base factory's) saves nothing: ``Factory()`` runs ``build()``.
        Valid(
            """
            from shop.built import BuiltProfileFactory, DraftProfileFactory, StubProfileFactory


            def test_profile(owner):
                assert not hasattr(owner, 'profile')
                BuiltProfileFactory(owner_id=owner.pk)
                DraftProfileFactory(owner_id=owner.pk)
                StubProfileFactory(owner_id=owner.pk)
                assert not hasattr(owner, 'profile')
            """,
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES, "shop/built.py": """
                import factory
                from factory import enums

                from shop.factories import ProfileFactory
                from shop.models import Profile


                class BuiltProfileFactory(factory.django.DjangoModelFactory):
                    class Meta:
                        model = Profile
                        strategy = factory.BUILD_STRATEGY


                class DraftProfileFactory(BuiltProfileFactory):
                    class Meta:
                        model = Profile


                class StubProfileFactory(ProfileFactory):
                    class Meta:
                        strategy = enums.STUB_STRATEGY
            """},
            id="factory-build-strategy",
        ),
        # A called function rebinds the receiver (``nonlocal``, ``global``): the write is on the
        # fresh object, whose cache is empty.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)

                def reload():
                    nonlocal owner
                    owner = Owner.objects.get(pk=pk)

                if not hasattr(owner, 'profile'):
                    reload()
                    Profile.objects.create(owner_id=owner.pk)
                return hasattr(owner, 'profile')
            """,
            files={"shop/models.py": _MODELS},
            id="receiver-rebound-by-nonlocal-call",
        ),
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant

            CURRENT = None


            def ensure(pk):
                global CURRENT
                CURRENT = Owner.objects.get(pk=pk)
                if not hasattr(CURRENT, 'profile'):
                    reload(pk)
                    Profile.objects.create(owner_id=CURRENT.pk)
                return hasattr(CURRENT, 'profile')


            def reload(pk):
                global CURRENT
                CURRENT = Owner.objects.get(pk=pk)
            """,
            files={"shop/models.py": _MODELS},
            id="receiver-rebound-by-global-call",
        ),
        # Moving rows to the owner they are selected by changes nothing.
        Valid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def touch(owner):
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).update(owner=owner)
                    Profile.objects.filter(owner_id=owner.pk).update(owner_id=owner.pk, bio='seen')
                return owner
            """,
            files={"shop/models.py": _MODELS},
            id="noop-move-to-same-owner",
        ),
    ]
    INVALID = [
        # -- stale after an absence was cached -------------------------------------------
        # create(owner_id=...): returns the object, so it is assigned to the accessor.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    owner.profile = Profile.objects.create(owner_id=owner.pk)
            """,
            expected_messages=["`owner.profile` was read at line 5"],
            id="create-by-owner-id",
            range=(6, 8, 6, 49),
        ),
        # Rel(owner_id=...).save(): save() returns nothing, so the relation is refreshed.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile(owner_id=owner.pk).save()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile(owner_id=owner.pk).save()
                    owner.refresh_from_db(fields=["profile"])
            """,
            expected_messages=["`.save()` with `owner_id` set"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="save-with-owner-id",
            range=(6, 8, 6, 41),
        ),
        # rel.owner_id = obj.pk; rel.save()
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    profile = Profile()
                    profile.owner_id = owner.pk
                    profile.save()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    profile = Profile()
                    profile.owner_id = owner.pk
                    profile.save()
                    owner.profile = profile
            """,
            expected_messages=["`owner.profile` was read at line 5"],
            unsafe=True,  # a change of p's owner before the save is not followed
            id="owner-id-assigned-then-saved",
            range=(8, 8, 8, 22),
        ),
        # Through another instance of the same row (inline, or bound to a name first).
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if getattr(owner, 'profile', None) is None:
                    Profile.objects.create(owner=Owner.objects.get(pk=owner.pk))
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if getattr(owner, 'profile', None) is None:
                    owner.profile = Profile.objects.create(owner=Owner.objects.get(pk=owner.pk))
            """,
            expected_messages=["another instance of its row"],
            id="create-through-another-instance",
            range=(6, 8, 6, 68),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    fresh = Owner.objects.get(pk=owner.pk)
                    Profile(owner=fresh).save()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    fresh = Owner.objects.get(pk=owner.pk)
                    Profile(owner=fresh).save()
                    owner.refresh_from_db(fields=["profile"])
            """,
            expected_messages=["another instance of its row"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="save-through-bound-other-instance",
            range=(7, 8, 7, 35),
        ),
        # QuerySet.update(owner=obj) and update(owner_id=obj.pk) bypass every instance.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(owner, profile_id):
                if not hasattr(owner, 'profile'):
                    Profile.objects.filter(pk=profile_id).update(owner=owner)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(owner, profile_id):
                if not hasattr(owner, 'profile'):
                    Profile.objects.filter(pk=profile_id).update(owner=owner)
                    owner.refresh_from_db(fields=["profile"])
            """,
            expected_messages=["`QuerySet.update(owner=...)`"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="queryset-update-owner",
            range=(6, 8, 6, 65),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(owner, profile_id):
                if not hasattr(owner, 'profile'):
                    Profile.objects.filter(pk=profile_id).update(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(owner, profile_id):
                if not hasattr(owner, 'profile'):
                    Profile.objects.filter(pk=profile_id).update(owner_id=owner.pk)
                    owner.refresh_from_db(fields=["profile"])
            """,
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="queryset-update-owner-id",
            range=(6, 8, 6, 71),
        ),
        # get_or_create / update_or_create keyed by owner_id: the pair is unpacked into the accessor.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.get_or_create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    owner.profile, _ = Profile.objects.get_or_create(owner_id=owner.pk)
            """,
            expected_messages=["`get_or_create(owner_id=...)`"],
            id="get-or-create-by-owner-id",
            range=(6, 8, 6, 56),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    profile, created = Profile.objects.update_or_create(owner_id=owner.pk, defaults={'bio': ''})
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    profile, created = Profile.objects.update_or_create(owner_id=owner.pk, defaults={'bio': ''})
                    owner.profile = profile
            """,
            expected_messages=["`update_or_create(owner_id=...)`"],
            id="update-or-create-by-owner-id",
            range=(6, 27, 6, 100),
        ),
        # The created object is already bound to a name: the accessor joins the assignment.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    profile = Profile.objects.create(owner_id=owner.pk)
                    return profile.bio
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    profile = owner.profile = Profile.objects.create(owner_id=owner.pk)
                    return profile.bio
            """,
            id="created-object-bound-to-name",
            range=(6, 18, 6, 59),
        ),
        # `_` is gettext in this module: assigning it would make it local, so another name is used.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.utils.translation import gettext as _


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.get_or_create(owner_id=owner.pk)
                return _('done')
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.utils.translation import gettext as _


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    owner.profile, _created = Profile.objects.get_or_create(owner_id=owner.pk)
                return _('done')
            """,
            id="underscore-is-gettext",
            range=(9, 8, 9, 56),
        ),
        # The three try/except reads cache exactly like hasattr.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def bio(owner):
                try:
                    return owner.profile.bio
                except Profile.DoesNotExist:
                    Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def bio(owner):
                try:
                    return owner.profile.bio
                except Profile.DoesNotExist:
                    owner.profile = Profile.objects.create(owner_id=owner.pk)
            """,
            expected_messages=["`owner.profile` was read at line 6"],
            id="try-except-does-not-exist",
            range=(8, 8, 8, 49),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.core.exceptions import ObjectDoesNotExist


            def bio(owner):
                try:
                    owner.profile
                except ObjectDoesNotExist:
                    Profile(owner_id=owner.pk, bio='x').save()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.core.exceptions import ObjectDoesNotExist


            def bio(owner):
                try:
                    owner.profile
                except ObjectDoesNotExist:
                    Profile(owner_id=owner.pk, bio='x').save()
                    owner.refresh_from_db(fields=["profile"])
            """,
            expected_messages=["`owner.profile` was read at line 9"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="try-except-object-does-not-exist",
            range=(11, 8, 11, 50),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def bio(owner):
                try:
                    owner.profile
                except Owner.profile.RelatedObjectDoesNotExist:
                    Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def bio(owner):
                try:
                    owner.profile
                except Owner.profile.RelatedObjectDoesNotExist:
                    owner.profile = Profile.objects.create(owner_id=owner.pk)
            """,
            id="try-except-related-object-does-not-exist",
            range=(8, 8, 8, 49),
        ),
        # related_query_name: the refresh must name the query name (the accessor raises there).
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def award(owner):
                if not hasattr(owner, 'badge'):
                    Badge(owner_id=owner.pk).save()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def award(owner):
                if not hasattr(owner, 'badge'):
                    Badge(owner_id=owner.pk).save()
                    owner.refresh_from_db(fields=["badge_q"])
            """,
            expected_messages=["`owner.badge`"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="related-query-name",
            range=(6, 8, 6, 39),
        ),
        # related_name on the other side of the docs' MySpecialUser; a placeholder on an abstract base.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def supervise(user, other):
                if not hasattr(user, 'supervisor_of'):
                    MySpecialUser.objects.create(user_id=other.pk, supervisor_id=user.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def supervise(user, other):
                if not hasattr(user, 'supervisor_of'):
                    user.supervisor_of = MySpecialUser.objects.create(user_id=other.pk, supervisor_id=user.pk)
            """,
            expected_messages=["`user.supervisor_of`"],
            id="related-name-supervisor-of",
            range=(6, 8, 6, 77),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def enrol(owner):
                if not hasattr(owner, 'loyaltycard_card'):
                    LoyaltyCard.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def enrol(owner):
                if not hasattr(owner, 'loyaltycard_card'):
                    owner.loyaltycard_card = LoyaltyCard.objects.create(owner_id=owner.pk)
            """,
            expected_messages=["`owner.loyaltycard_card`"],
            id="related-name-placeholder",
            range=(6, 8, 6, 53),
        ),
        # Multi-table inheritance: the implicit parent link place_ptr.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def open_restaurant(place):
                if not hasattr(place, 'restaurant'):
                    Restaurant(place_ptr_id=place.pk, name=place.name).save()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def open_restaurant(place):
                if not hasattr(place, 'restaurant'):
                    Restaurant(place_ptr_id=place.pk, name=place.name).save()
                    place.refresh_from_db(fields=["restaurant"])
            """,
            expected_messages=["`place.restaurant`"],
            unsafe=True,  # on Django 4.2-5.0 the refresh drops every reverse one-to-one cache, seen or not
            id="multi-table-parent-link",
            range=(6, 8, 6, 65),
        ),
        # ... promoted by id without touching the parent row: save_base(raw=True).
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def promote(place):
                if not hasattr(place, 'restaurant'):
                    Restaurant(place_ptr_id=place.pk, serves_pizza=True).save_base(raw=True)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def promote(place):
                if not hasattr(place, 'restaurant'):
                    Restaurant(place_ptr_id=place.pk, serves_pizza=True).save_base(raw=True)
                    place.refresh_from_db(fields=["restaurant"])
            """,
            expected_messages=["`.save_base()` with `place_ptr_id` set"],
            unsafe=True,  # on Django 4.2-5.0 the refresh drops every reverse one-to-one cache, seen or not
            id="multi-table-promotion-save-base",
            range=(6, 8, 6, 80),
        ),
        # -- stale after a presence was cached --------------------------------------------
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    owner.profile.delete()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    owner.profile.delete()
                    owner.refresh_from_db(fields=["profile"])
            """,
            expected_messages=["`.delete()` of the related row"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="related-row-deleted",
            range=(6, 8, 6, 30),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def close(place):
                if hasattr(place, 'restaurant'):
                    place.restaurant.delete(keep_parents=True)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def close(place):
                if hasattr(place, 'restaurant'):
                    place.restaurant.delete(keep_parents=True)
                    place.refresh_from_db(fields=["restaurant"])
            """,
            expected_messages=["`place.restaurant`"],
            unsafe=True,  # on Django 4.2-5.0 the refresh drops every reverse one-to-one cache, seen or not
            id="delete-keep-parents",
            range=(6, 8, 6, 50),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).delete()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).delete()
                    owner.refresh_from_db(fields=["profile"])
            """,
            expected_messages=["`QuerySet.delete()` filtered on `owner`"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="queryset-delete",
            range=(6, 8, 6, 52),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    Profile.objects.get(owner=owner).delete()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    Profile.objects.get(owner=owner).delete()
                    owner.refresh_from_db(fields=["profile"])
            """,
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="get-then-delete",
            range=(6, 8, 6, 49),
        ),
        # Moving the row to another owner, with update() or through the cached instance.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def hand_over(owner, other):
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).update(owner=other)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def hand_over(owner, other):
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).update(owner=other)
                    owner.refresh_from_db(fields=["profile"])
            """,
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="moved-by-queryset-update",
            range=(6, 8, 6, 63),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def hand_over(owner, other):
                if hasattr(owner, 'profile'):
                    profile = owner.profile
                    profile.owner = other
                    profile.save()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def hand_over(owner, other):
                if hasattr(owner, 'profile'):
                    profile = owner.profile
                    profile.owner = other
                    profile.save()
                    owner.refresh_from_db(fields=["profile"])
            """,
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="moved-through-cached-instance",
            range=(8, 8, 8, 22),
        ),
        # Deleted through a local holding the cached row (Django keeps the deleted row cached,
        # pk=None: verified on 4.2 and 5.2).
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    current = owner.profile
                    current.delete()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    current = owner.profile
                    current.delete()
                    owner.refresh_from_db(fields=["profile"])
            """,
            expected_messages=["`.delete()` of the related row changes the relation"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="deleted-through-local-variable",
            range=(7, 8, 7, 24),
        ),
        # -- where the read and the write stand ---------------------------------------------
        # Straight-line order, after the guarded branch, in a loop, in an except handler.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.core.exceptions import ObjectDoesNotExist


            def bio(owner):
                try:
                    text = owner.profile.bio
                except ObjectDoesNotExist:
                    text = ''
                Profile.objects.filter(owner=owner).delete()
                return text
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.core.exceptions import ObjectDoesNotExist


            def bio(owner):
                try:
                    text = owner.profile.bio
                except ObjectDoesNotExist:
                    text = ''
                Profile.objects.filter(owner=owner).delete()
                owner.refresh_from_db(fields=["profile"])
                return text
            """,
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="write-after-try-except",
            range=(12, 4, 12, 48),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all(owners):
                for owner in owners:
                    if not hasattr(owner, 'profile'):
                        Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all(owners):
                for owner in owners:
                    if not hasattr(owner, 'profile'):
                        owner.profile = Profile.objects.create(owner_id=owner.pk)
            """,
            id="write-in-loop",
            range=(7, 12, 7, 53),
        ),
        # One finding per write; a dotted receiver; a one-line branch; a write inside an expression.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                if not hasattr(owner, 'badge'):
                    Badge.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    owner.profile = Profile.objects.create(owner_id=owner.pk)
                if not hasattr(owner, 'badge'):
                    owner.badge = Badge.objects.create(owner_id=owner.pk)
            """,
            expected_messages=["`owner.profile`", "`owner.badge`"],
            id="one-finding-per-write",
            range=(6, 8, 6, 49),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def view(request):
                if not hasattr(request.user, 'profile'):
                    Profile.objects.create(owner_id=request.user.pk)
                return request.user.profile
            """,
            files={"shop/models.py": _MODELS, "shop/settings.py": _USER_IS_OWNER},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def view(request):
                if not hasattr(request.user, 'profile'):
                    request.user.profile = Profile.objects.create(owner_id=request.user.pk)
                return request.user.profile
            """,
            expected_messages=["`request.user.profile`"],
            id="dotted-receiver",
            range=(6, 8, 6, 56),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'): Profile(owner_id=owner.pk).save()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'): Profile(owner_id=owner.pk).save(); owner.refresh_from_db(fields=["profile"])
            """,
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="one-line-branch",
            range=(5, 38, 5, 71),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    bio = Profile.objects.create(owner_id=owner.pk).bio
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    bio = Profile.objects.create(owner_id=owner.pk).bio
                    owner.refresh_from_db(fields=["profile"])
            """,
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="write-inside-expression",
            range=(6, 14, 6, 55),
        ),
        # refresh_from_db(fields=[<another field>]) stopped clearing the cache in Django 5.1.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                    owner.refresh_from_db(fields=['name'])
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    owner.profile = Profile.objects.create(owner_id=owner.pk)
                    owner.refresh_from_db(fields=['name'])
            """,
            expected_messages=["clears it only up to Django 5.0"],
            id="refresh-of-another-field",
            range=(6, 8, 6, 49),
        ),
        # async: the awaited write is assigned; never a refresh, which empties the cache so that
        # the next hasattr() queries and raises SynchronousOnlyOperation: the delete has no fix.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            async def ensure(owner):
                if not hasattr(owner, 'profile'):
                    await Profile.objects.acreate(owner_id=owner.pk)
                if hasattr(owner, 'badge'):
                    await Badge.objects.filter(owner=owner).adelete()
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            async def ensure(owner):
                if not hasattr(owner, 'profile'):
                    owner.profile = await Profile.objects.acreate(owner_id=owner.pk)
                if hasattr(owner, 'badge'):
                    await Badge.objects.filter(owner=owner).adelete()
            """,
            id="async-writes",
            range=(6, 14, 6, 56),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            async def ensure(owner):
                if not hasattr(owner, 'profile'):
                    await Profile.objects.aget_or_create(owner_id=owner.pk)
                if hasattr(owner, 'badge'):
                    await Badge.objects.filter(owner=owner).aupdate(owner=None)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            async def ensure(owner):
                if not hasattr(owner, 'profile'):
                    owner.profile, _ = await Profile.objects.aget_or_create(owner_id=owner.pk)
                if hasattr(owner, 'badge'):
                    await Badge.objects.filter(owner=owner).aupdate(owner=None)
                return owner
            """,
            id="async-get-or-create-and-update",
            range=(6, 14, 6, 63),
        ),
        # A write in a queryset method of another module (``from_queryset``), called after a read.
        Invalid(
            """
            from club.models import Member


            def leave(person):
                if hasattr(person, 'member'):
                    Member.objects.drop_for(person)
                return person
            """,
            files={"club/models.py": _CLUB_MODELS, "club/managers.py": _CLUB_MANAGERS},
            expected_messages=["`Member.objects.drop_for()` changes the relation without going through it "
                               "(`QuerySet.delete()` filtered on `person` in club.managers.MemberQuerySet.drop_for"],
            id="writer-in-queryset-of-another-module",
            range=(6, 8, 6, 39),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners):
                missing = [o for o in owners if not hasattr(o, 'profile')]
                Profile.objects.bulk_create([Profile(owner_id=o.pk) for o in missing])
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=['the elements of `owners` escape: the caller holds `owners`'],
            id="bulk-create-for-every-element",
            range=(6, 4, 6, 74),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.bulk_create([Profile(owner_id=owner.pk)])
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.bulk_create([Profile(owner_id=owner.pk)])
                    owner.refresh_from_db(fields=["profile"])
            """,
            expected_messages=['`bulk_create(owner_id=...)`'],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="bulk-create-by-owner-id",
            range=(6, 8, 6, 65),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(pk, owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.update_or_create(pk=pk, defaults={'owner_id': owner.pk})
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(pk, owner):
                if not hasattr(owner, 'profile'):
                    owner.profile, _ = Profile.objects.update_or_create(pk=pk, defaults={'owner_id': owner.pk})
            """,
            expected_messages=['`update_or_create(owner_id=...)`'],
            id="update-or-create-defaults-by-id",
            range=(6, 8, 6, 80),
        ),
        # ... or a delete of the rows such a method selects: ``return self.filter(person=person)``.
        Invalid(
            """
            from club.models import Member


            def leave(person):
                if hasattr(person, 'member'):
                    Member.objects.of(person).delete()
                return person
            """,
            files={"club/models.py": _CLUB_MODELS, "club/managers.py": _CLUB_MANAGERS},
            expected_fix="""
            from club.models import Member


            def leave(person):
                if hasattr(person, 'member'):
                    Member.objects.of(person).delete()
                    person.refresh_from_db(fields=["member"])
                return person
            """,
            expected_messages=["`.delete()` of the rows `Member.objects.of()` selects"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="delete-of-queryset-method-rows",
            range=(6, 8, 6, 42),
        ),
        # ... through locals (``rows = self.filter(person=person)``, ``return rows.order_by(...)``).
        Invalid(
            """
            from club.models import Member


            def leave(person):
                if hasattr(person, 'member'):
                    Member.objects.mine(person).delete()
                return person
            """,
            files={"club/models.py": _CLUB_MODELS, "club/managers.py": _CLUB_MANAGERS},
            expected_fix="""
            from club.models import Member


            def leave(person):
                if hasattr(person, 'member'):
                    Member.objects.mine(person).delete()
                    person.refresh_from_db(fields=["member"])
                return person
            """,
            expected_messages=["`.delete()` of the rows `Member.objects.mine()` selects"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="delete-of-local-chain-rows",
            range=(6, 8, 6, 44),
        ),
        # An update() of those rows that moves them to another owner.
        Invalid(
            """
            from club.models import Member


            def hand_over(person, other):
                if hasattr(person, 'member'):
                    Member.objects.of(person).update(person=other)
                return person
            """,
            files={"club/models.py": _CLUB_MODELS, "club/managers.py": _CLUB_MANAGERS},
            expected_fix="""
            from club.models import Member


            def hand_over(person, other):
                if hasattr(person, 'member'):
                    Member.objects.of(person).update(person=other)
                    person.refresh_from_db(fields=["member"])
                return person
            """,
            expected_messages=["`.update()` of the rows `Member.objects.of()` selects"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="update-of-queryset-method-rows",
            range=(6, 8, 6, 54),
        ),
        # An update() by id through any custom chain ties its rows to the owner.
        Invalid(
            """
            from club.models import Member


            def adopt(person):
                if not hasattr(person, 'member'):
                    Member.objects.named('x').update(person_id=person.pk)
                return person
            """,
            files={"club/models.py": _CLUB_MODELS, "club/managers.py": _CLUB_MANAGERS},
            expected_fix="""
            from club.models import Member


            def adopt(person):
                if not hasattr(person, 'member'):
                    Member.objects.named('x').update(person_id=person.pk)
                    person.refresh_from_db(fields=["member"])
                return person
            """,
            expected_messages=["`QuerySet.update(person_id=...)`"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="update-by-id-custom-chain",
            range=(6, 8, 6, 61),
        ),
        # A delete of a local queryset selecting by the owner.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def logout(owner):
                if hasattr(owner, 'profile'):
                    rows = Profile.objects.filter(owner=owner)
                    rows.order_by('pk').delete()
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def logout(owner):
                if hasattr(owner, 'profile'):
                    rows = Profile.objects.filter(owner=owner)
                    rows.order_by('pk').delete()
                    owner.refresh_from_db(fields=["profile"])
                return owner
            """,
            expected_messages=["`QuerySet.delete()` filtered on `owner`"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="local-queryset-delete",
            range=(7, 8, 7, 36),
        ),
        # on_commit() in a durable atomic() block (the outermost: its end is the commit): the
        # write runs when the block ends; reported without a fix (a refresh would run before).
        Invalid(
            """
            from django.db import transaction

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    with transaction.atomic(durable=True):
                        transaction.on_commit(lambda: Profile.objects.create(owner_id=owner.pk))
                return owner.profile
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=["run by `on_commit()` when the durable `atomic()` block ending at line 10 commits, "
                               "changes the relation without going through `owner`, so the cached `owner.profile` "
                               "is stale; it is read again at line 11"],
            id="on-commit-in-durable-block",
            range=(10, 42, 10, 83),
        ),
        Invalid(
            """
            from functools import partial

            from django.db.transaction import atomic, on_commit

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    with atomic(durable=True):
                        on_commit(partial(Profile.objects.create, owner_id=owner.pk))
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=["this `create(owner_id=...)`, run by `on_commit()`"],
            id="on-commit-partial-in-durable-block",
            range=(11, 22, 11, 72),
        ),
        # A target named by a setting the project assigns (``settings.TICKET_MEMBER_MODEL``).
        Invalid(
            """
            from club.models import Ticket


            def ensure(member):
                if not hasattr(member, 'ticket'):
                    Ticket.objects.create(member_id=member.pk)
                return member
            """,
            files={"club/models.py": _SETTINGS_MODELS, "site/settings.py": 'TICKET_MEMBER_MODEL = "club.Member"\n'},
            expected_fix="""
            from club.models import Ticket


            def ensure(member):
                if not hasattr(member, 'ticket'):
                    member.ticket = Ticket.objects.create(member_id=member.pk)
                return member
            """,
            expected_messages=["`member.ticket` was read at line 5"],
            id="settings-target",
            range=(6, 8, 6, 50),
        ),
        # ``getattr(settings, ..., "club.Member")``: its default; the accessor ``pass`` is a keyword
        # (``member.pass = ...`` does not parse): refreshed instead.
        Invalid(
            """
            from club.models import Pass


            def ensure(member):
                if not hasattr(member, 'pass'):
                    Pass.objects.create(member_id=member.pk)
                return member
            """,
            files={"club/models.py": _SETTINGS_MODELS},
            expected_fix="""
            from club.models import Pass


            def ensure(member):
                if not hasattr(member, 'pass'):
                    Pass.objects.create(member_id=member.pk)
                    member.refresh_from_db(fields=["pass"])
                return member
            """,
            expected_messages=["`member.pass` was read at line 5"],
            unsafe=True,  # on Django 4.2-5.0 the refresh drops every reverse one-to-one cache, seen or not
            id="settings-default-keyword-accessor",
            range=(6, 8, 6, 48),
        ),
        # factory_boy and model_bakery save the row by id, as create() does (a SubFactory
        # declared for the field does not change it: verified on 4.2, 5.2 and 6.1).
        Invalid(
            """
            from shop.factories import OwnerFactory, ProfileFactory


            def test_profile():
                owner = OwnerFactory()
                assert not hasattr(owner, 'profile')
                ProfileFactory(owner_id=owner.pk)
                assert owner.profile
            """,
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES},
            expected_fix="""
            from shop.factories import OwnerFactory, ProfileFactory


            def test_profile():
                owner = OwnerFactory()
                assert not hasattr(owner, 'profile')
                ProfileFactory(owner_id=owner.pk)
                owner.refresh_from_db(fields=["profile"])
                assert owner.profile
            """,
            expected_messages=["this `ProfileFactory(owner_id=...)`"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="factory-by-owner-id",
            range=(7, 4, 7, 37),
        ),
        Invalid(
            """
            from shop.factories import OwnerFactory, ProfileFactory


            def test_profile():
                owner = OwnerFactory()
                assert not hasattr(owner, 'profile')
                ProfileFactory.create(owner_id=owner.pk)
                assert owner.profile
            """,
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES},
            expected_fix="""
            from shop.factories import OwnerFactory, ProfileFactory


            def test_profile():
                owner = OwnerFactory()
                assert not hasattr(owner, 'profile')
                owner.profile = ProfileFactory.create(owner_id=owner.pk)
                assert owner.profile
            """,
            expected_messages=["this `create(owner_id=...)`"],
            id="factory-create-by-owner-id",
            range=(7, 4, 7, 44),
        ),
        Invalid(
            """
            from model_bakery import baker

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def test_profile():
                owner = baker.make(Owner)
                assert not hasattr(owner, 'profile')
                baker.make('shop.Profile', owner_id=owner.pk)
                assert owner.profile
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from model_bakery import baker

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def test_profile():
                owner = baker.make(Owner)
                assert not hasattr(owner, 'profile')
                baker.make('shop.Profile', owner_id=owner.pk)
                owner.refresh_from_db(fields=["profile"])
                assert owner.profile
            """,
            expected_messages=["this `make(owner_id=...)`"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="baker-make-by-owner-id",
            range=(9, 4, 9, 49),
        ),
        # A post_generation hook: factory_boy passes the created instance and returns it.
        Invalid(
            """
            import factory

            from shop.factories import ProfileFactory
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            class OwnerWithProfileFactory(factory.django.DjangoModelFactory):
                class Meta:
                    model = Owner

                @factory.post_generation
                def profile(obj, create, extracted, **kwargs):
                    if create and not hasattr(obj, 'profile'):
                        ProfileFactory(owner_id=obj.pk)
            """,
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES},
            expected_fix="""
            import factory

            from shop.factories import ProfileFactory
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            class OwnerWithProfileFactory(factory.django.DjangoModelFactory):
                class Meta:
                    model = Owner

                @factory.post_generation
                def profile(obj, create, extracted, **kwargs):
                    if create and not hasattr(obj, 'profile'):
                        ProfileFactory(owner_id=obj.pk)
                        obj.refresh_from_db(fields=["profile"])
            """,
            expected_messages=["`obj` escapes: the caller holds the instance"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="post-generation-hook",
            range=(14, 12, 14, 43),
        ),
        # ... and in a queryset method: ``rows = self.filter(...)``, ``rows.update(...)``.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.db import models


            class CardQuerySet(models.QuerySet):
                def release(self, owner, other):
                    rows = self.filter(owner=owner)
                    rows.update(owner=other)


            class Card(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name='card')
                objects = CardQuerySet.as_manager()


            def hand_over(owner, other):
                if hasattr(owner, 'card'):
                    Card.objects.release(owner, other)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.db import models


            class CardQuerySet(models.QuerySet):
                def release(self, owner, other):
                    rows = self.filter(owner=owner)
                    rows.update(owner=other)
                    owner.refresh_from_db(fields=["card"])


            class Card(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name='card')
                objects = CardQuerySet.as_manager()


            def hand_over(owner, other):
                if hasattr(owner, 'card'):
                    Card.objects.release(owner, other)
                return owner
            """,
            expected_messages=["callers read `owner.card` before calling `CardQuerySet.release()`",
                               "`Card.objects.release()` changes the relation"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="local-queryset-in-queryset-method",
            range=(10, 8, 10, 32),
        ),
        # ``self.get_queryset()`` in a manager's method: its rows, filtered by the owner.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.db import models


            class CardManager(models.Manager):
                def drop(self, owner):
                    self.get_queryset().filter(owner=owner).delete()


            class Card(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name='card')
                objects = CardManager()


            def logout(owner):
                if hasattr(owner, 'card'):
                    Card.objects.drop(owner)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.db import models


            class CardManager(models.Manager):
                def drop(self, owner):
                    self.get_queryset().filter(owner=owner).delete()
                    owner.refresh_from_db(fields=["card"])


            class Card(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name='card')
                objects = CardManager()


            def logout(owner):
                if hasattr(owner, 'card'):
                    Card.objects.drop(owner)
                return owner
            """,
            expected_messages=["callers read `owner.card` before calling `CardManager.drop()`",
                               "`Card.objects.drop()` changes the relation"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="get-queryset-in-manager-method",
            range=(9, 8, 9, 56),
        ),
        # An awaited bulk write in async def: reported, no fix (a refresh is not async-safe).
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            async def ensure(owner):
                if not hasattr(owner, 'profile'):
                    await Profile.objects.abulk_create([Profile(owner_id=owner.pk)])
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=["this `abulk_create(owner_id=...)`"],
            id="async-bulk-create-no-fix",
            range=(6, 14, 6, 72),
        ),
        # A write in a compound statement's header: reported, no place for a statement.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    if Profile.objects.filter(owner=owner).delete()[0]:
                        return True
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=["`owner.profile`"],
            id="write-in-compound-statement-header",
            range=(6, 11, 6, 55),
        ),
        # -- the write in another function ----------------------------------------------------
        # The forum thread: company.create_address() writes on self (in shop/models.py): the
        # call is reported here, the fix goes to the writer.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def test_create_address_for_company():
                company = Company.objects.create()
                assert not hasattr(company, 'address')
                company.create_address()
                address = company.address
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=[
                "`company.create_address()` changes the relation without going through it "
                "(`create(company_id=...)` in shop.models.Company.create_address, line 21: fix it there)",
            ],
            id="model-method-writes-on-self",
            range=(7, 4, 7, 28),
        ),
        # ensure_profile(user) in another module, imported by name or through its module.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from shop.services import ensure_profile


            def login(owner):
                if not hasattr(owner, 'profile'):
                    ensure_profile(owner)
                return owner.profile
            """,
            files={
                "shop/models.py": _MODELS,
                "shop/services.py": """
                    from shop.models import Profile


                    def ensure_profile(owner):
                        Profile.objects.get_or_create(owner_id=owner.pk)
                """,
            },
            expected_messages=[
                "`owner.profile` was read at line 8 and its answer is cached on `owner`; `ensure_profile()`",
            ],
            id="writer-in-another-module",
            range=(9, 8, 9, 29),
        ),
        # ... and the writer's side: its caller (in shop/views.py) reads first, so the writer is
        # fixed for every caller.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_profile(owner):
                Profile.objects.get_or_create(owner_id=owner.pk)


            def unrelated(owner):
                Profile.objects.create(owner_id=owner.pk)
            """,
            files={
                "shop/models.py": _MODELS,
                "shop/views.py": """
                    from app import models as services


                    def login(owner):
                        if not hasattr(owner, 'profile'):
                            services.ensure_profile(owner)
                        return owner.profile
                """,
            },
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_profile(owner):
                owner.profile, _ = Profile.objects.get_or_create(owner_id=owner.pk)


            def unrelated(owner):
                Profile.objects.create(owner_id=owner.pk)
            """,
            expected_messages=[
                "callers read `owner.profile` before calling `ensure_profile()` (shop.views.login reads it at "
                "line 5)",
            ],
            id="writer-side-of-cross-module-call",
            range=(5, 4, 5, 52),
        ),
        # Both in one file, through a method on self; a writer that returns the created object.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            class Onboarding:
                def run(self, company):
                    if not hasattr(company, 'address'):
                        self.add_address(company)

                def add_address(self, company):
                    Address.objects.create(company_id=company.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            class Onboarding:
                def run(self, company):
                    if not hasattr(company, 'address'):
                        self.add_address(company)

                def add_address(self, company):
                    company.address = Address.objects.create(company_id=company.pk)
            """,
            expected_messages=[
                "`self.add_address()` changes the relation",
                "callers read `company.address` before calling `Onboarding.add_address()`",
            ],
            id="writer-method-in-same-file",
            range=(7, 12, 7, 37),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def setup(company):
                if not hasattr(company, 'address'):
                    return make_address(company)


            def make_address(company):
                return Address.objects.create(company_id=company.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def setup(company):
                if not hasattr(company, 'address'):
                    return make_address(company)


            def make_address(company):
                company.address = Address.objects.create(company_id=company.pk)
                return company.address
            """,
            expected_messages=["`make_address()` changes the relation", "callers read `company.address`"],
            id="writer-returns-created-object",
            range=(6, 15, 6, 36),
        ),
        # A model method that reads and writes on self (the forum's Company.create_address).
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.db import models


            class Shop(models.Model):
                def open(self):
                    if not hasattr(self, 'storefront'):
                        Storefront.objects.create(shop_id=self.pk)


            class Storefront(models.Model):
                shop = models.OneToOneField(Shop, models.CASCADE)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.db import models


            class Shop(models.Model):
                def open(self):
                    if not hasattr(self, 'storefront'):
                        self.storefront = Storefront.objects.create(shop_id=self.pk)


            class Storefront(models.Model):
                shop = models.OneToOneField(Shop, models.CASCADE)
            """,
            expected_messages=["`self.storefront` was read at line 9"],
            id="model-method-reads-and-writes-self",
            range=(10, 12, 10, 54),
        ),
        # Observable: a local receiver read again after the write (the message names the line).
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def reset(pk):
                owner = Owner.objects.get(pk=pk)
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).delete()
                return hasattr(owner, 'profile')
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def reset(pk):
                owner = Owner.objects.get(pk=pk)
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).delete()
                    owner.refresh_from_db(fields=["profile"])
                return hasattr(owner, 'profile')
            """,
            expected_messages=["it is read again at line 8"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="local-read-again",
            range=(7, 8, 7, 52),
        ),
        # Observable in the loop's next iteration: the loop does not rebind `owner` (a second create
        # would break the unique constraint).
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fill(pk, bios):
                owner = Owner.objects.get(pk=pk)
                for bio in bios:
                    if not hasattr(owner, 'profile'):
                        Profile.objects.create(owner_id=owner.pk, bio=bio)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fill(pk, bios):
                owner = Owner.objects.get(pk=pk)
                for bio in bios:
                    if not hasattr(owner, 'profile'):
                        owner.profile = Profile.objects.create(owner_id=owner.pk, bio=bio)
            """,
            expected_messages=["it is read again at line 7, in the loop's next iteration"],
            id="local-read-in-next-iteration",
            range=(8, 12, 8, 62),
        ),
        # Observable by the caller: a local receiver that is returned.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fresh(pk):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fresh(pk):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    owner.profile = Profile.objects.create(owner_id=owner.pk)
                return owner
            """,
            expected_messages=["`owner` escapes: returned at line 8"],
            id="local-returned",
            range=(7, 8, 7, 49),
        ),
        # Observable by the callee: a local receiver passed to a call after the write.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def onboard(pk, notify):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                notify(owner)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def onboard(pk, notify):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    owner.profile = Profile.objects.create(owner_id=owner.pk)
                notify(owner)
            """,
            expected_messages=["`owner` escapes: passed to `notify()` at line 8"],
            id="local-passed-to-call",
            range=(7, 8, 7, 49),
        ),
        # `del owner.profile` is no repair: the reverse descriptor has no `__delete__` (AttributeError on
        # Django 4.2 and 5.2, verified); the write stays reported.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).delete()
                    del owner.profile
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).delete()
                    owner.refresh_from_db(fields=["profile"])
                    del owner.profile
            """,
            expected_messages=["`owner` escapes: it is a parameter, the caller holds it"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="del-accessor-is-no-repair",
            range=(6, 8, 6, 52),
        ),
        # A write hidden in a custom manager's method (the manager and the model in one module;
        # stale on Django 4.2 and 5.2, verified): the call is reported, the method is fixed.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.db import models


            class CardManager(models.Manager):
                def drop_for(self, owner):
                    self.filter(owner=owner).delete()


            class Card(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name='card')
                objects = CardManager()


            def logout(owner):
                if hasattr(owner, 'card'):
                    Card.objects.drop_for(owner)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.db import models


            class CardManager(models.Manager):
                def drop_for(self, owner):
                    self.filter(owner=owner).delete()
                    owner.refresh_from_db(fields=["card"])


            class Card(models.Model):
                owner = models.OneToOneField(Owner, models.CASCADE, related_name='card')
                objects = CardManager()


            def logout(owner):
                if hasattr(owner, 'card'):
                    Card.objects.drop_for(owner)
                return owner
            """,
            expected_messages=["callers read `owner.card` before calling `CardManager.drop_for()`",
                               "`Card.objects.drop_for()` changes the relation"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="write-in-manager-method",
            range=(9, 8, 9, 41),
        ),
        # A receiver reached through an attribute escapes with its root: the template reads
        # `request.user.profile` after render(request, ...).
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.shortcuts import render


            def settings_view(request):
                if not hasattr(request.user, 'profile'):
                    Profile.objects.create(owner_id=request.user.pk)
                return render(request, 'settings.html')
            """,
            files={"shop/models.py": _MODELS, "shop/settings.py": _USER_IS_OWNER},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            from django.shortcuts import render


            def settings_view(request):
                if not hasattr(request.user, 'profile'):
                    request.user.profile = Profile.objects.create(owner_id=request.user.pk)
                return render(request, 'settings.html')
            """,
            expected_messages=["`request` escapes: passed to `render()` at line 10"],
            id="attribute-receiver-root-passed",
            range=(9, 8, 9, 56),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners):
                missing = [o for o in owners if not hasattr(o, 'profile')]
                for o in missing:
                    Profile.objects.create(owner_id=o.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners):
                missing = [o for o in owners if not hasattr(o, 'profile')]
                for o in missing:
                    o.profile = Profile.objects.create(owner_id=o.pk)
            """,
            expected_messages=['`o.profile` was read at line 5 on every element of `owners`'],
            id="element-read-in-comprehension",
            range=(7, 8, 7, 45),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners):
                if not any(hasattr(o, 'profile') for o in owners):
                    for o in owners:
                        Profile.objects.create(owner_id=o.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners):
                if not any(hasattr(o, 'profile') for o in owners):
                    for o in owners:
                        o.profile = Profile.objects.create(owner_id=o.pk)
            """,
            expected_messages=['`o` escapes: it is an element of `owners`, which the caller holds'],
            id="element-read-in-any",
            range=(7, 12, 7, 49),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners):
                for o in filter(lambda v: not hasattr(v, 'profile'), owners):
                    Profile.objects.create(owner_id=o.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owners):
                for o in filter(lambda v: not hasattr(v, 'profile'), owners):
                    o.profile = Profile.objects.create(owner_id=o.pk)
            """,
            expected_messages=['`o.profile` was read at line 5 on every element of `owners`'],
            id="element-read-in-filter-lambda",
            range=(6, 8, 6, 45),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.select_related('profile').get(pk=pk)
                Profile.objects.create(owner_id=owner.pk)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.select_related('profile').get(pk=pk)
                owner.profile = Profile.objects.create(owner_id=owner.pk)
                return owner
            """,
            expected_messages=['`owner.profile` was read at line 5 by `select_related("profile")`'],
            id="select-related-get",
            range=(6, 4, 6, 45),
        ),
        # ... through a local queryset.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owners = Owner.objects.select_related('profile')
                owner = owners.get(pk=pk)
                Profile.objects.create(owner_id=owner.pk)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owners = Owner.objects.select_related('profile')
                owner = owners.get(pk=pk)
                owner.profile = Profile.objects.create(owner_id=owner.pk)
                return owner
            """,
            expected_messages=['`owner.profile` was read at line 5 by `select_related("profile")`'],
            id="select-related-local-queryset",
            range=(7, 4, 7, 45),
        ),
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def purge():
                for owner in Owner.objects.prefetch_related('profile'):
                    Profile.objects.filter(owner=owner).delete()
                    print(owner.profile)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def purge():
                for owner in Owner.objects.prefetch_related('profile'):
                    Profile.objects.filter(owner=owner).delete()
                    owner.refresh_from_db(fields=["profile"])
                    print(owner.profile)
            """,
            expected_messages=['by `prefetch_related("profile")`'],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="prefetch-related-loop",
            range=(6, 8, 6, 52),
        ),
        # -- Django 6.1 fetch modes: one read caches the answer on every peer ----------------
        # The first element's read fills every element of the queryset; the next iterations'
        # rows are created by id after it, so their reads answer from the stale cache (6.1, run).
        Invalid(
            """
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    if not Profile.objects.filter(owner_id=o.pk).exists():
                        Profile.objects.create(owner_id=o.pk)
                    print(hasattr(o, 'profile'))
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    if not Profile.objects.filter(owner_id=o.pk).exists():
                        o.profile = Profile.objects.create(owner_id=o.pk)
                    print(hasattr(o, 'profile'))
            """,
            expected_messages=[
                "`o.profile` was read at line 10 in an earlier iteration (with `fetch_mode(FETCH_PEERS)` one read caches "
                "the answer on every instance of the queryset) and its answer is cached on `o`; this "
                "`create(owner_id=...)` changes the relation without going through `o`, so the cached `o.profile` is "
                "stale; it is read again at line 10",
            ],
            id="fetch-peers-loop-create",
            range=(9, 12, 9, 49),
        ),
        # A local queryset (models.FETCH_PEERS, chained on), a plain load that raises from the
        # second element on: get_or_create's object is assigned.
        Invalid(
            """
            from django.db import models

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                owners = Owner.objects.fetch_mode(models.FETCH_PEERS).filter(name__startswith='a')
                for o in owners.order_by('pk'):
                    Profile.objects.get_or_create(owner_id=o.pk)
                    print(o.profile.bio)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from django.db import models

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                owners = Owner.objects.fetch_mode(models.FETCH_PEERS).filter(name__startswith='a')
                for o in owners.order_by('pk'):
                    o.profile, _ = Profile.objects.get_or_create(owner_id=o.pk)
                    print(o.profile.bio)
            """,
            expected_messages=["`o.profile` was read at line 10 in an earlier iteration (with `fetch_mode(models.FETCH_PEERS)`"],
            id="fetch-peers-local-queryset",
            range=(9, 8, 9, 52),
        ),
        # list() of the queryset: the same instances; a save() is followed by a refresh.
        Invalid(
            """
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                owners = list(Owner.objects.fetch_mode(FETCH_PEERS))
                for o in owners:
                    Profile(owner_id=o.pk).save()
                    print(getattr(o, 'profile', None))
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all():
                owners = list(Owner.objects.fetch_mode(FETCH_PEERS))
                for o in owners:
                    Profile(owner_id=o.pk).save()
                    o.refresh_from_db(fields=["profile"])
                    print(getattr(o, 'profile', None))
            """,
            expected_messages=["`o.profile` was read at line 10 in an earlier iteration"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="fetch-peers-list-save",
            range=(9, 8, 9, 37),
        ),
        # A presence cached on every peer, then a delete by id; the element escapes.
        Invalid(
            """
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def purge():
                purged = []
                for o in Owner.objects.fetch_mode(FETCH_PEERS)[:100]:
                    if o.profile.bio == '':
                        Profile.objects.filter(owner_id=o.pk).delete()
                        purged.append(o)
                return purged
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def purge():
                purged = []
                for o in Owner.objects.fetch_mode(FETCH_PEERS)[:100]:
                    if o.profile.bio == '':
                        Profile.objects.filter(owner_id=o.pk).delete()
                        o.refresh_from_db(fields=["profile"])
                        purged.append(o)
                return purged
            """,
            expected_messages=["`o.profile` was read at line 9 in an earlier iteration (with `fetch_mode(FETCH_PEERS)`"
                               " one read caches the answer on every instance of the queryset) and its answer is cached on `o`;"
                               " this `QuerySet.delete()` filtered on `owner_id` changes the relation without going through"
                               " `o`, so the cached `o.profile` is stale; `o` escapes: passed to `purged.append()` at line 11"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="fetch-peers-delete-escapes",
            range=(10, 12, 10, 58),
        ),
        # Through a call: the writer gets the fix, the call is reported where it stands.
        Invalid(
            """
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_profile(owner):
                Profile.objects.get_or_create(owner_id=owner.pk)


            def bios():
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    ensure_profile(o)
                    print(o.profile.bio)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from django.db.models import FETCH_PEERS

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_profile(owner):
                owner.profile, _ = Profile.objects.get_or_create(owner_id=owner.pk)


            def bios():
                for o in Owner.objects.fetch_mode(FETCH_PEERS):
                    ensure_profile(o)
                    print(o.profile.bio)
            """,
            expected_messages=[
                "callers read `owner.profile` before calling `ensure_profile()`",
                "`o.profile` was read at line 13 in an earlier iteration (with `fetch_mode(FETCH_PEERS)` one read caches",
            ],
            id="fetch-peers-call",
            range=(7, 4, 7, 52),
        ),
        # A target named by swapper's get_model_name(): its default, no setting assigned.
        Invalid(
            """
            from club.models import Locker


            def ensure(member):
                if not hasattr(member, 'locker'):
                    Locker.objects.create(member_id=member.pk)
                return member
            """,
            files={"club/models.py": _SWAPPER_MODELS},
            expected_fix="""
            from club.models import Locker


            def ensure(member):
                if not hasattr(member, 'locker'):
                    member.locker = Locker.objects.create(member_id=member.pk)
                return member
            """,
            expected_messages=["`member.locker` was read at line 5"],
            id="swapper-target",
            range=(6, 8, 6, 50),
        ),
        # Swapped by its setting (``set_app_prefix`` names it): the accessor is on the
        # replacement, the model ``swapper.load_model()`` loads.
        Invalid(
            """
            import swapper

            from club.models import Locker

            Member = swapper.load_model("club", "Member")


            def ensure(pk):
                member = Member.objects.get(pk=pk)
                if not hasattr(member, 'locker'):
                    Locker.objects.create(member_id=member.pk)
                return member
            """,
            files={"club/models.py": "import swapper\n\nswapper.set_app_prefix('club', 'members')\n" + _SWAPPER_MODELS,
                   "alt/models.py": _SWAPPER_ALT_MODELS,
                   "site/settings.py": 'MEMBERS_MEMBER_MODEL = "alt.Member"\n'},
            expected_fix="""
            import swapper

            from club.models import Locker

            Member = swapper.load_model("club", "Member")


            def ensure(pk):
                member = Member.objects.get(pk=pk)
                if not hasattr(member, 'locker'):
                    member.locker = Locker.objects.create(member_id=member.pk)
                return member
            """,
            expected_messages=["`member.locker` was read at line 10"],
            id="swapper-swapped-load-model",
            range=(11, 8, 11, 50),
        ),
        # pytest: a "factory as fixture" of a conftest.py above the test, called after the read
        # (the fix goes to the fixture's function, in the conftest).
        Invalid(
            """
            def test_profile(owner, make_profile):
                assert not hasattr(owner, 'profile')
                make_profile(owner, bio="x")
                assert owner.profile
            """,
            path="tests/accounts/test_profiles.py",
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES, "tests/__init__.py": "",
                   "tests/accounts/__init__.py": "", "tests/conftest.py": _PYTEST_CONFTEST},
            expected_messages=[
                "`make_profile()` changes the relation without going through it "
                "(`create(owner_id=...)` in tests.conftest.make_profile.<locals>._make, line 18: fix it there)",
            ],
            id="pytest-factory-as-fixture",
            range=(3, 4, 3, 32),
        ),
        # pytest-factoryboy: ``register(ProfileFactory)`` gives the test the fixture
        # ``profile_factory``, the factory class itself.
        Invalid(
            """
            def test_profile(owner, profile_factory):
                assert not hasattr(owner, 'profile')
                profile_factory(owner_id=owner.pk)
                assert owner.profile
            """,
            path="tests/test_profiles.py",
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES, "tests/__init__.py": "",
                   "tests/conftest.py": _PYTEST_CONFTEST},
            expected_fix="""
            def test_profile(owner, profile_factory):
                assert not hasattr(owner, 'profile')
                profile_factory(owner_id=owner.pk)
                owner.refresh_from_db(fields=["profile"])
                assert owner.profile
            """,
            expected_messages=["this `profile_factory(owner_id=...)`"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="pytest-factoryboy-registered-factory",
            range=(3, 4, 3, 38),
        ),
        # -- fix safety (the review of OTO002) ----------------------------------------------
        # The refresh reloads the relation alone only where it is proven to drop nothing else: on
        # Django 4.2 it drops `owner.prefs`-like caches (and their unsaved edits) too: unsafe.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(owner):
                owner.name = 'kept'
                if not hasattr(owner, 'profile'):
                    Profile.objects.filter(bio='spare').update(owner_id=owner.pk)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(owner):
                owner.name = 'kept'
                if not hasattr(owner, 'profile'):
                    Profile.objects.filter(bio='spare').update(owner_id=owner.pk)
                    owner.refresh_from_db(fields=["profile"])
                return owner
            """,
            expected_messages=["`owner.profile`"],
            unsafe=True,
            id="refresh-drops-other-caches",
            range=(7, 8, 7, 69),
        ),
        # ... and when the receiver's primary key is a one-to-one, the refresh drops `member.account`
        # on every version: unsafe even for a project on Django 5.2.
        Invalid(
            """
            from shop.safety import Account, Desk, Member, Ribbon, Solo


            def award(member):
                if not hasattr(member, 'ribbon'):
                    Ribbon.objects.filter(member=None).update(member_id=member.pk)
                return member
            """,
            files={"shop/safety.py": _SAFETY_MODELS},
            expected_fix="""
            from shop.safety import Account, Desk, Member, Ribbon, Solo


            def award(member):
                if not hasattr(member, 'ribbon'):
                    Ribbon.objects.filter(member=None).update(member_id=member.pk)
                    member.refresh_from_db(fields=["ribbon"])
                return member
            """,
            expected_messages=["`member.ribbon`"],
            unsafe=True,
            target_version=(5, 2),
            id="refresh-pk-is-a-relation-unsafe",
            range=(6, 8, 6, 70),
        ),
        # One reverse one-to-one, a plain primary key: the refresh drops nothing else (safe).
        Invalid(
            """
            from shop.safety import Account, Desk, Member, Ribbon, Solo


            def clear(solo):
                solo.name = 'kept'
                if hasattr(solo, 'desk'):
                    Desk.objects.filter(solo=solo).delete()
                return solo
            """,
            files={"shop/safety.py": _SAFETY_MODELS},
            expected_fix="""
            from shop.safety import Account, Desk, Member, Ribbon, Solo


            def clear(solo):
                solo.name = 'kept'
                if hasattr(solo, 'desk'):
                    Desk.objects.filter(solo=solo).delete()
                    solo.refresh_from_db(fields=["desk"])
                return solo
            """,
            expected_messages=["`solo.desk`"],
            target_version=(5, 2),  # 5.1+ keeps the other reverse one-to-one caches
            id="refresh-proven-harmless",
            range=(7, 8, 7, 47),
        ),
        # A project on Django 5.1+ (target version): the refresh drops no other reverse cache.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).delete()
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def drop(owner):
                if hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=owner).delete()
                    owner.refresh_from_db(fields=["profile"])
                return owner
            """,
            expected_messages=["`owner.profile`"],
            target_version=(5, 2),
            id="refresh-safe-from-django-5-1",
            range=(6, 8, 6, 52),
        ),
        # In an atomic() block a rollback removes the row again: an assigned row would be saved
        # back by a later `owner.profile.save()` (verified on 4.2, 5.2, 6.1). Reported, no fix.
        Invalid(
            """
            from django.db import IntegrityError, transaction

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def onboard(owner):
                if not hasattr(owner, 'profile'):
                    try:
                        with transaction.atomic():
                            Profile.objects.create(owner_id=owner.pk)
                    except IntegrityError:
                        pass
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=["`owner.profile`"],
            id="write-in-atomic-block-no-fix",
            range=(10, 16, 10, 57),
        ),
        Invalid(
            """
            from django.db import transaction

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            @transaction.atomic
            def onboard(owner):
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=["`owner.profile`"],
            id="write-in-atomic-function-no-fix",
            range=(9, 8, 9, 49),
        ),
        # `*found, created = ...`: `found` is a list, not the row.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(owner):
                if not hasattr(owner, 'profile'):
                    *found, created = Profile.objects.get_or_create(owner_id=owner.pk)
                    return created
                return None
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=["`owner.profile`"],
            id="starred-target-no-fix",
            range=(6, 26, 6, 74),
        ),
        # The write's result is consumed before the statement ends: yielded (the consumer reads the
        # cache before the generator resumes), passed to a call that may read the receiver. A
        # refresh after the statement would come too late and silence the finding.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure_all(owners):
                for owner in owners:
                    if not hasattr(owner, 'profile'):
                        yield Profile.objects.create(owner_id=owner.pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=["`owner.profile`"],
            id="yielded-write-no-fix",
            range=(7, 18, 7, 59),
        ),
        Invalid(
            """
            from shop.safety import Account, Desk, Member, Ribbon, Solo


            def clear(solo, notify):
                if hasattr(solo, 'desk'):
                    notify(solo, Desk.objects.filter(solo=solo).delete())
            """,
            files={"shop/safety.py": _SAFETY_MODELS},
            expected_messages=["`solo.desk`"],
            id="write-passed-to-call-no-fix",
            range=(6, 21, 6, 60),
        ),
        # A read on the write's own line: the refresh goes between them.
        Invalid(
            """
            from shop.safety import Account, Desk, Member, Ribbon, Solo


            def clear(solo):
                if hasattr(solo, 'desk'):
                    Desk.objects.filter(solo=solo).delete(); gone = not hasattr(solo, 'desk')
                    return gone
            """,
            files={"shop/safety.py": _SAFETY_MODELS},
            expected_fix="""
            from shop.safety import Account, Desk, Member, Ribbon, Solo


            def clear(solo):
                if hasattr(solo, 'desk'):
                    Desk.objects.filter(solo=solo).delete(); solo.refresh_from_db(fields=["desk"]); gone = not hasattr(solo, 'desk')
                    return gone
            """,
            expected_messages=["`solo.desk`"],
            unsafe=True,  # on Django 4.2-5.0 the refresh drops every reverse one-to-one cache, seen or not
            id="read-on-write-line",
            range=(6, 8, 6, 47),
        ),
        # The receiver's model is known and owns the accessor: reported as before.
        Invalid(
            """
            from venue.models import Host, Ticket


            def admit(host: Host):
                if not hasattr(host, 'ticket'):
                    Ticket.objects.create(holder_id=host.pk)
                return host
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            expected_fix="""
            from venue.models import Host, Ticket


            def admit(host: Host):
                if not hasattr(host, 'ticket'):
                    host.ticket = Ticket.objects.create(holder_id=host.pk)
                return host
            """,
            expected_messages=["`host.ticket` was read at line 5"],
            id="annotated-receiver-owns-accessor",
            range=(6, 8, 6, 48),
        ),
        # A multi-table child has its parents' accessors (the descriptor is inherited; the
        # cache is the child instance's).
        Invalid(
            """
            from venue.models import Lease, Restaurant


            def open_lease(pk):
                restaurant = Restaurant.objects.get(pk=pk)
                if not hasattr(restaurant, 'lease'):
                    Lease.objects.create(place_id=restaurant.pk)
                return restaurant
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            expected_fix="""
            from venue.models import Lease, Restaurant


            def open_lease(pk):
                restaurant = Restaurant.objects.get(pk=pk)
                if not hasattr(restaurant, 'lease'):
                    restaurant.lease = Lease.objects.create(place_id=restaurant.pk)
                return restaurant
            """,
            expected_messages=["`restaurant.lease` was read at line 6"],
            id="mti-child-receiver-parent-accessor",
            range=(7, 8, 7, 52),
        ),
        # So does a proxy of the model.
        Invalid(
            """
            from venue.models import Lease, ProxyPlace


            def open_leases():
                for place in ProxyPlace.objects.all():
                    if not hasattr(place, 'lease'):
                        Lease.objects.create(place_id=place.pk)
                    print(place.lease)
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            expected_fix="""
            from venue.models import Lease, ProxyPlace


            def open_leases():
                for place in ProxyPlace.objects.all():
                    if not hasattr(place, 'lease'):
                        place.lease = Lease.objects.create(place_id=place.pk)
                    print(place.lease)
            """,
            expected_messages=["it is read again at line 8"],
            id="proxy-receiver-owns-accessor",
            range=(7, 12, 7, 51),
        ),
        # A model annotation may hold an instance of a subclass: the subclass's accessors count. No
        # fix: on a plain Place nothing was cached, an assignment would make hasattr() True and a
        # refresh raises FieldDoesNotExist (4.2, 5.2, 6.1: the second review).
        Invalid(
            """
            from venue.models import Licence, Place


            def license(place: Place):
                if not hasattr(place, 'licence'):
                    Licence.objects.create(restaurant_id=place.pk)
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            expected_messages=["`place` escapes: it is a parameter"],
            id="annotated-parent-child-accessor",
            range=(6, 8, 6, 54),
        ),
        # An abstract base's `related_name="%(class)s_card"`: the accessor of each concrete subclass.
        Invalid(
            """
            from venue.models import Host, LoyaltyCard


            def enrol(host: Host):
                if not hasattr(host, 'loyaltycard_card'):
                    LoyaltyCard.objects.create(owner_id=host.pk)
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            expected_fix="""
            from venue.models import Host, LoyaltyCard


            def enrol(host: Host):
                if not hasattr(host, 'loyaltycard_card'):
                    host.loyaltycard_card = LoyaltyCard.objects.create(owner_id=host.pk)
            """,
            expected_messages=["`host.loyaltycard_card` was read at line 5"],
            id="abstract-base-class-accessor",
            range=(6, 8, 6, 52),
        ),
        # The user model (`auth.User` by default) owns the accessors of `settings.AUTH_USER_MODEL` relations.
        Invalid(
            """
            from venue.models import Badge


            def badge(request):
                if not hasattr(request.user, 'badge'):
                    Badge.objects.create(user_id=request.user.pk)
                return request.user.badge
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            expected_fix="""
            from venue.models import Badge


            def badge(request):
                if not hasattr(request.user, 'badge'):
                    request.user.badge = Badge.objects.create(user_id=request.user.pk)
                return request.user.badge
            """,
            expected_messages=["`request.user.badge` was read at line 5"],
            id="request-user-owns-accessor",
            range=(6, 8, 6, 53),
        ),
        Invalid(
            """
            from django.contrib.auth import get_user_model

            from venue.models import Badge


            def badge(pk):
                user = get_user_model().objects.get(pk=pk)
                if not hasattr(user, 'badge'):
                    Badge.objects.create(user_id=user.pk)
                return user
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            expected_fix="""
            from django.contrib.auth import get_user_model

            from venue.models import Badge


            def badge(pk):
                user = get_user_model().objects.get(pk=pk)
                if not hasattr(user, 'badge'):
                    user.badge = Badge.objects.create(user_id=user.pk)
                return user
            """,
            expected_messages=["`user.badge` was read at line 8"],
            id="get-user-model-owns-accessor",
            range=(9, 8, 9, 45),
        ),
        # A writer whose parameter's model owns the accessor: the call and the write are reported.
        Invalid(
            """
            from venue.models import Host, Ticket


            def ensure_ticket(host: Host):
                Ticket.objects.create(holder_id=host.pk)


            def admit(person):
                if not hasattr(person, 'ticket'):
                    ensure_ticket(person)
                return person
            """,
            files={"venue/models.py": _RECEIVER_MODELS},
            expected_fix="""
            from venue.models import Host, Ticket


            def ensure_ticket(host: Host):
                host.ticket = Ticket.objects.create(holder_id=host.pk)


            def admit(person):
                if not hasattr(person, 'ticket'):
                    ensure_ticket(person)
                return person
            """,
            expected_messages=["callers read `host.ticket` before calling `ensure_ticket()`",
                               "`ensure_ticket()` changes the relation"],
            id="writer-parameter-owns-accessor",
            range=(5, 4, 5, 44),
        ),
        # A user model of the project's own while no module sets `AUTH_USER_MODEL` (an environment
        # variable, a settings file outside the tree): `request.user` may be it, so it is not
        # taken for `auth.User`.
        Invalid(
            """
            from members.models import Card


            def card(request):
                if not hasattr(request.user, 'card'):
                    Card.objects.create(member_id=request.user.pk)
                return request.user.card
            """,
            files={"members/models.py": _CUSTOM_USER_MODELS},
            expected_fix="""
            from members.models import Card


            def card(request):
                if not hasattr(request.user, 'card'):
                    request.user.card = Card.objects.create(member_id=request.user.pk)
                return request.user.card
            """,
            expected_messages=["`request.user.card` was read at line 5"],
            id="request-user-custom-model-unset",
            range=(6, 8, 6, 54),
        ),
        # -- the neighbours of the unobservable forms above: a read that can follow the write ---
        # break leaves the loop, not the function: a read after the loop follows the write.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk, attempts):
                owner = Owner.objects.get(pk=pk)
                for attempt in range(attempts):
                    if not hasattr(owner, 'profile'):
                        Profile.objects.create(owner_id=owner.pk)
                        break
                return owner.profile.bio
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk, attempts):
                owner = Owner.objects.get(pk=pk)
                for attempt in range(attempts):
                    if not hasattr(owner, 'profile'):
                        owner.profile = Profile.objects.create(owner_id=owner.pk)
                        break
                return owner.profile.bio
            """,
            expected_messages=["it is read again at line 10"],
            id="write-then-break-read-after-loop",
            range=(8, 12, 8, 53),
        ),
        # Returning the receiver itself is an escape, not a cut-off: the caller reads it.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    Profile.objects.create(owner_id=owner.pk)
                    return owner
                return None
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    owner.profile = Profile.objects.create(owner_id=owner.pk)
                    return owner
                return None
            """,
            expected_messages=["`owner` escapes: returned at line 8"],
            id="write-then-return-receiver",
            range=(7, 8, 7, 49),
        ),
        # A raise caught around the write: the read after the try follows it.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                try:
                    if not hasattr(owner, 'profile'):
                        Profile.objects.create(owner_id=owner.pk)
                        raise LookupError('created a profile')
                except LookupError:
                    pass
                return owner.profile.bio
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                try:
                    if not hasattr(owner, 'profile'):
                        owner.profile = Profile.objects.create(owner_id=owner.pk)
                        raise LookupError('created a profile')
                except LookupError:
                    pass
                return owner.profile.bio
            """,
            expected_messages=["it is read again at line 12"],
            id="write-then-raise-caught",
            range=(8, 12, 8, 53),
        ),
        # continue goes on with the same receiver: the loop's next iteration reads it.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fill(pk, bios):
                owner = Owner.objects.get(pk=pk)
                for bio in bios:
                    if not hasattr(owner, 'profile'):
                        Profile.objects.create(owner_id=owner.pk, bio=bio)
                        continue
                    print(owner.profile.bio)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fill(pk, bios):
                owner = Owner.objects.get(pk=pk)
                for bio in bios:
                    if not hasattr(owner, 'profile'):
                        owner.profile = Profile.objects.create(owner_id=owner.pk, bio=bio)
                        continue
                    print(owner.profile.bio)
            """,
            expected_messages=["it is read again at line 7, in the loop's next iteration"],
            id="write-then-continue-same-receiver",
            range=(8, 12, 8, 62),
        ),
        # break leaves the inner loop only: the outer loop's next iteration reads the receiver.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fill(pk, bios):
                owner = Owner.objects.get(pk=pk)
                for bio in bios:
                    for attempt in range(3):
                        if not hasattr(owner, 'profile'):
                            Profile.objects.create(owner_id=owner.pk, bio=bio)
                            break
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fill(pk, bios):
                owner = Owner.objects.get(pk=pk)
                for bio in bios:
                    for attempt in range(3):
                        if not hasattr(owner, 'profile'):
                            owner.profile = Profile.objects.create(owner_id=owner.pk, bio=bio)
                            break
            """,
            expected_messages=["it is read again at line 8, in the loop's next iteration"],
            id="inner-break-outer-next-iteration",
            range=(9, 16, 9, 66),
        ),
        # The loop rebinds the receiver only after a read that follows the write.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fill(pks):
                owner = Owner.objects.get(pk=pks[0])
                for pk in pks[1:]:
                    if not hasattr(owner, 'profile'):
                        Profile.objects.create(owner_id=owner.pk)
                    print(owner.profile.bio)
                    owner = Owner.objects.get(pk=pk)
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def fill(pks):
                owner = Owner.objects.get(pk=pks[0])
                for pk in pks[1:]:
                    if not hasattr(owner, 'profile'):
                        owner.profile = Profile.objects.create(owner_id=owner.pk)
                    print(owner.profile.bio)
                    owner = Owner.objects.get(pk=pk)
            """,
            expected_messages=["it is read again at line 9"],
            id="loop-rebinds-receiver-after-a-read",
            range=(8, 12, 8, 53),
        ),
        # A raise after the durable block has committed: the on_commit() write ran.
        Invalid(
            """
            from django.db import transaction

            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                if not hasattr(owner, 'profile'):
                    with transaction.atomic(durable=True):
                        transaction.on_commit(lambda: Profile.objects.create(owner_id=owner.pk))
                    if owner.name == 'closed':
                        raise LookupError('closed')
                return hasattr(owner, 'profile')
            """,
            files={"shop/models.py": _MODELS},
            expected_messages=["run by `on_commit()` when the durable `atomic()` block ending at line 10 commits, "
                               "changes the relation without going through `owner`, so the cached `owner.profile` "
                               "is stale; it is read again at line 13"],
            id="on-commit-raise-after-durable-block",
            range=(10, 42, 10, 83),
        ),
        # A factory whose own Meta sets the create strategy again over its base's build: it saves.
        Invalid(
            """
            from shop.built import CreatedProfileFactory


            def test_profile(owner):
                assert not hasattr(owner, 'profile')
                CreatedProfileFactory(owner_id=owner.pk)
                assert owner.profile
            """,
            files={"shop/models.py": _MODELS, "shop/factories.py": _FACTORIES, "shop/built.py": """
                import factory

                from shop.models import Profile


                class BuiltProfileFactory(factory.django.DjangoModelFactory):
                    class Meta:
                        model = Profile
                        strategy = 'build'


                class CreatedProfileFactory(BuiltProfileFactory):
                    class Meta:
                        model = Profile
                        strategy = factory.CREATE_STRATEGY
            """},
            expected_fix="""
            from shop.built import CreatedProfileFactory


            def test_profile(owner):
                assert not hasattr(owner, 'profile')
                CreatedProfileFactory(owner_id=owner.pk)
                owner.refresh_from_db(fields=["profile"])
                assert owner.profile
            """,
            expected_messages=["this `CreatedProfileFactory(owner_id=...)`"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="factory-create-over-build-base",
            range=(6, 4, 6, 44),
        ),
        # A called nested function rebinding another name (``nonlocal calls``): the receiver is the same.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                calls = 0

                def count():
                    nonlocal calls
                    calls += 1

                if not hasattr(owner, 'profile'):
                    count()
                    Profile.objects.create(owner_id=owner.pk)
                return hasattr(owner, 'profile')
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def ensure(pk):
                owner = Owner.objects.get(pk=pk)
                calls = 0

                def count():
                    nonlocal calls
                    calls += 1

                if not hasattr(owner, 'profile'):
                    count()
                    owner.profile = Profile.objects.create(owner_id=owner.pk)
                return hasattr(owner, 'profile')
            """,
            expected_messages=["it is read again at line 15"],
            id="nonlocal-call-rebinds-another",
            range=(14, 8, 14, 49),
        ),
        # Rows selected by another owner, moved to the receiver: a real move.
        Invalid(
            """
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(owner, other):
                if not hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=other).update(owner=owner)
                return owner
            """,
            files={"shop/models.py": _MODELS},
            expected_fix="""
            from shop.models import Address, Badge, Comment, Company, LoyaltyCard, MySpecialUser, Owner, Place, Profile, Restaurant


            def adopt(owner, other):
                if not hasattr(owner, 'profile'):
                    Profile.objects.filter(owner=other).update(owner=owner)
                    owner.refresh_from_db(fields=["profile"])
                return owner
            """,
            expected_messages=["this `QuerySet.update(owner=...)`"],
            unsafe=True,  # other reverse one-to-ones on the receiver: 4.2's refresh drops them too
            id="move-from-another-owner",
            range=(6, 8, 6, 63),
        ),
    ]

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.pending: dict[tuple[int, int], Found] = {}
        lines: list[str] | None = None
        for found in context.index.view(StaleWrites).findings(context.facts):
            line, byte_column = found.pos[0], found.pos[1]
            if lines is None:
                lines = split_lines(context.text)
            self.pending.setdefault((line, char_column(lines, line, byte_column)), found)
        self.statement_lines: list[cst.SimpleStatementLine | cst.SimpleStatementSuite] = []
        self.asynchronous: list[bool] = []  # per enclosing function: is it ``async def``?
        self.atomic: list[bool] = []  # per enclosing ``with``/function: may it roll back (``atomic()``)?

    # -- where a call stands -------------------------------------------------------

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statement_lines.append(node)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self.statement_lines.pop()

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self.statement_lines.append(node)

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite) -> None:
        self.statement_lines.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.asynchronous.append(node.asynchronous is not None)
        self.atomic.append(any(_atomic(decorator.decorator) for decorator in node.decorators))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.asynchronous.pop()
        self.atomic.pop()

    def visit_With(self, node: cst.With) -> None:
        self.atomic.append(any(_atomic(item.item) for item in node.items))

    def leave_With(self, original_node: cst.With) -> None:
        self.atomic.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not self.pending:
            return
        start = self.position(node).start
        found = self.pending.pop((start.line, start.column), None)
        if found is None:
            return
        fix = None if found.kind == "call" else self._fix(node, found)
        self.report(node, self.message(found), fix)

    # -- messages ------------------------------------------------------------------

    MESSAGES: ClassVar[dict[str, str]] = {
        # a read, then a stale write in the same function
        "write": "`{recv}.{acc}` was read at line {read_line}{read_how} and its answer is cached on `{recv}`; this {what} "
                 "changes the relation without going through `{recv}`, so the cached `{recv}.{acc}` is stale{note}; "
                 "{seen}",
        # a stale write on a parameter that callers read before calling
        "writer": "callers read `{recv}.{acc}` before calling `{function}()` ({origin}); this {what} changes the "
                  "relation without going through `{recv}`, so their cached `{recv}.{acc}` is stale",
        # a call into such a writer, after a read (the writer itself gets the fix)
        "call": "`{recv}.{acc}` was read at line {read_line}{read_how} and its answer is cached on `{recv}`; `{callee}()` "
                "changes the relation without going through it ({what} in {site}: fix it there), so the cached "
                "`{recv}.{acc}` is stale; {seen}",
        # appended to "write" when a later refresh_from_db(fields=[...]) no longer clears the cache
        "partial-refresh": " (`refresh_from_db(fields=[{fields}])` at line {line} clears it only up to Django 5.0)",
        "origin": "{0}.{1} reads it at line {2}",
        "site": "{0}.{1}, line {2}",
        # the stale write, by what it is
        "related-row": "`.{method}()` of the related row",
        "other-instance": "`{method}()` with `{key}=` another instance of its row",
        "save": "`.{method}()` with `{key}` set",
        "update": "`QuerySet.{method}({key}=...)`",
        "delete": "`QuerySet.{method}()` filtered on `{key}`",
        "narrowed": "`.{method}()` of the rows `{callee}()` selects",
        "create": "`{method}({key}=...)`",
        "deferred": ", run by `on_commit()` when the durable `atomic()` block ending at line {line} commits,",
    }

    @classmethod
    def message(cls, found: Found) -> str:
        text = cls.MESSAGES
        refresh = found.refresh
        note = "" if refresh is None else text["partial-refresh"].format(
            fields=", ".join(f'"{f}"' for f in refresh.fields), line=refresh.pos[0])
        return text[found.kind].format(
            recv=found.recv, acc=found.acc, read_line=found.read_line, read_how=found.read_how, what=cls.describe(found.write), note=note,
            function=found.function, origin=text["origin"].format(*found.origin), callee=found.callee,
            site=text["site"].format(*found.site), seen=found.seen,
        )

    @classmethod
    def describe(cls, write: Write) -> str:
        """A stale write, as the messages name it."""
        what = cls._describe(write)
        if write.deferred:
            what += cls.MESSAGES["deferred"].format(line=write.deferred)
        return what

    @classmethod
    def _describe(cls, write: Write) -> str:
        method, key = write.method, write.key
        if write.narrow is not None:
            return cls.MESSAGES["narrowed"].format(method=method, callee=write.narrow[0])
        if write.op is Op.DETACH and write.acc and not write.model and key is None:
            kind = "related-row"
        elif write.other:
            kind = "other-instance"
        elif method in SAVE_METHODS:
            kind = "save"
        elif method in UPDATES:
            kind = "update"
        elif method in DELETES:
            kind = "delete"
        else:
            kind = "create"
        return cls.MESSAGES[kind].format(method=method, key=key)

    # -- fixes ---------------------------------------------------------------------

    def _fix(self, call: cst.Call, found: Found) -> Fix | None:
        if found.write.deferred:
            return None  # the write runs at the commit: a statement after the call would run before it
        if not self.statement_lines:
            return None  # in a compound statement's header: nowhere to put a statement
        line = self.statement_lines[-1]
        small = self._small_statement(line, call)
        if small is None:
            return None
        if any(self.atomic) and not isinstance(small, cst.Return):
            # A rollback of the block (an exception a caller or a handler catches) removes the row
            # again: the stale answer is then right, and an assigned one would save a rolled-back row
            # back (verified on 4.2, 5.2 and 6.1). After a ``return`` nothing of the block runs but
            # its commit.
            return None
        receiver, accessor = found.recv, found.acc
        if not receiver.replace(".", "").replace("_", "").isalnum():
            return None  # ``xs[i]``: every element of ``xs``; no one statement repairs them
        if self._parent_instance_possible(found):
            # The accessor is a multi-table child's: on an instance of the parent (``Place`` read
            # as ``place.licence``) nothing was cached, an assignment sets a plain attribute that
            # changes the next ``hasattr()``, and a refresh raises FieldDoesNotExist (4.2-6.1, run).
            return None
        method = call.func.attr.value if isinstance(call.func, cst.Attribute) else None
        value = getattr(small, "value", None)
        awaited = isinstance(value, cst.Await) and value.expression is call
        # An async method's call is a coroutine: only awaited does it write (and return the row).
        direct = awaited or value is call and method not in ASYNC_TWINS
        replacement: Any = None
        safe = True
        description = f"Assign the written object to `{receiver}.{accessor}`"
        if direct and method in RETURNS_OBJECT | RETURNS_PAIR and not keyword.iskeyword(accessor):
            # (``place.pass`` of a model ``Pass`` does not parse: refreshed instead)
            replacement = self._assign(line, small, receiver, accessor, pair=method in RETURNS_PAIR)
        saved = self._saved_object(call, found) if isinstance(small, cst.Expr) and direct else None
        if replacement is None and saved is not None and not keyword.iskeyword(accessor):
            target = cst.Attribute(value=cst.parse_expression(receiver), attr=cst.Name(accessor))
            replacement = self._after_small(line, small, cst.Assign(targets=[cst.AssignTarget(target)], value=cst.Name(saved)))
            description = (f"Assign the saved `{saved}` to `{receiver}.{accessor}` (unless `{saved}` was given "
                           f"another owner before the save)")
            # ``p.owner = other`` or ``setattr(p, ...)`` between the key and the save is not
            # followed: the row may be another owner's, and the assignment would hand it over
            safe = False
        if replacement is None:
            if len(found.query_names) != 1 or not isinstance(small, (cst.Expr, cst.Assign)) or _starred(small) \
                    or not _result_only_read(value, call, asynchronous=method in ASYNC_TWINS):
                # The write's result is used within the statement (yielded, passed to a call that may
                # read the receiver, compared): a refresh after it would come too late.
                return None
            if self.asynchronous and self.asynchronous[-1]:
                # Refreshing empties the cache: the next ``hasattr(obj, "rel")`` in async code then
                # queries and raises SynchronousOnlyOperation (Django 4.2, 5.2, 6.1, verified).
                return None
            query_name = found.query_names[0]
            refresh = f'{receiver}.refresh_from_db(fields=["{query_name}"])'
            replacement = self._after_small(line, small, cst.Expr(cst.parse_expression(refresh)))
            description = f'Refresh `{receiver}.{accessor}` with `{receiver}.refresh_from_db(fields=["{query_name}"])`'
            safe = self._refresh_keeps_edits(found)
            if not safe:
                description += (" (it also drops the receiver's other cached relations, and their unsaved edits, "
                                "on Django 4.2-5.0, or its primary key's related object)")
        return Fix(description=description, safe=safe, replacements={line: replacement}, span=self.span_of(line))

    @staticmethod
    def _saved_object(call: cst.Call, found: Found) -> str | None:
        """``p.save()`` (or ``await p.asave()``) of a row whose ``owner_id`` was set to the receiver's
        pk: the known object, to assign instead of a refresh (no query, nothing else dropped). Not
        with arguments (``update_fields=`` may leave the key unsaved, ``using=`` another database)."""
        write = found.write
        if write.op is not Op.ATTACH or write.method not in ("save", "asave") or write.other \
                or not (write.key or "").endswith("_id") or call.args:
            return None
        if isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name):
            return call.func.value.value
        return None

    def _refresh_keeps_edits(self, found: Found) -> bool:
        """Whether ``refresh_from_db(fields=["<query name>"])`` drops nothing but the stale cache.

        It also reloads the primary key, dropping its cached object when the key is a relation
        (a ``OneToOneField(primary_key=True)``, a multi-table child's parent link: every version);
        on Django 2.0 to 5.0 it drops every reverse one-to-one and every ``GenericForeignKey``
        cache of the instance too (verified on 4.2; 5.2 and 6.1 keep them). An object edited
        through such a cache and saved later would then save the database's copy. Proven only
        when the receiver's model (a project model) has no other reverse one-to-one accessor
        (a multi-table child's included), no ``GenericForeignKey``, a primary key that is no
        relation, and no multi-table child (the receiver may be one: its key is the parent link).
        """
        index = self.context.index
        django = index.django
        settings = self.context.settings
        # 2.0-5.0 are excluded only by a target version the project chose (the default is the newest)
        from_5_1 = settings.target_version >= (5, 1) and (
            settings.target_version != NEWEST_DJANGO or bool(settings.extra.get("target_version_set")))
        if not from_5_1:
            # On 2.0-5.0 every reverse one-to-one cache goes with it, also those of relations the
            # index cannot see (a third-party app's ``user.auth_token``, an unresolved target):
            # their unsaved edits were lost on 4.2 (the second review, run)
            return False
        relations = self._written_relations(found)
        if not relations:
            return False
        # a multi-table child's accessor never gets here (:meth:`_parent_instance_possible`)
        for relation in relations:
            model = index.models_by_key.get(relation.owner)
            if model is None or model.external \
                    or any(base not in index.models and base not in MODEL_BASES
                           for ancestor in django.ancestors(model) for base in ancestor.base_qualnames) \
                    or any((r.field is None or r.field.parent_link) and r.accessor != found.acc
                           for r in index.reverse_by_owner.get(model.key, ())) \
                    or any(declared.primary_key for ancestor in django.ancestors(model) for declared in ancestor.fields):
                return False
        return True

    def _parent_instance_possible(self, found: Found) -> bool:
        """The accessor belongs to a multi-table child (its relation's owner has a concrete
        parent): the receiver may be an instance of the parent, which has no such accessor."""
        index = self.context.index
        for relation in self._written_relations(found):
            model = index.models_by_key.get(relation.owner)
            if model is not None and any(not parent.abstract for parent in index.django.parents(model)):
                return True
        return False

    def _written_relations(self, found: Found) -> list[Any]:
        """The reverse one-to-one relations of the finding's accessor that its write may be."""
        return [relation for relation in self.context.index.view(StaleWrites).accessors.get(found.acc, ())
                if relation.query_name in found.query_names]

    def _small_statement(self, line: cst.SimpleStatementLine | cst.SimpleStatementSuite,
                         call: cst.Call) -> cst.BaseSmallStatement | None:
        where = self.position(call).start
        for small in line.body:
            span = self.position(small)
            if (span.start.line, span.start.column) <= (where.line, where.column) <= (span.end.line, span.end.column):
                return small
        return None

    @staticmethod
    def _after_small(line: cst.SimpleStatementLine | cst.SimpleStatementSuite, small: cst.BaseSmallStatement,
                     statement: cst.BaseSmallStatement) -> Any:
        """*statement* right after *small*: before the line's next statements (``write(); gone = not
        hasattr(...)`` on one line must read the repaired cache)."""
        body = list(line.body)
        at = body.index(small)
        if at == len(body) - 1:
            return StaleReverseCache._after(line, statement)
        body[at:at + 1] = [small.with_changes(semicolon=cst.Semicolon(whitespace_after=cst.SimpleWhitespace(" "))),
                           statement.with_changes(semicolon=body[at].semicolon)]
        return line.with_changes(body=body)

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
            # (``*p, created = ...``: ``p`` is a list, not the object)
            if len(small.targets) == 1 and isinstance(first, (cst.Tuple, cst.List)) and len(first.elements) == 2 \
                    and all(type(e) is cst.Element for e in first.elements) \
                    and isinstance(first.elements[0].value, cst.Name):
                name = first.elements[0].value.value
                return self._after_small(line, small, cst.Assign(targets=[cst.AssignTarget(target)], value=cst.Name(name)))
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


def _atomic(expression: cst.BaseExpression) -> bool:
    """``transaction.atomic(...)`` / ``atomic`` / ``@transaction.atomic``: a block that may roll back."""
    if isinstance(expression, cst.Call):
        expression = expression.func
    if isinstance(expression, cst.Attribute):
        return expression.attr.value == "atomic"
    return isinstance(expression, cst.Name) and expression.value == "atomic"


def _result_only_read(value: cst.BaseExpression | None, call: cst.Call, *, asynchronous: bool) -> bool:
    """*value* is the write *call* itself, or reads its result through attributes and literal
    subscripts only (``create(...).bio``, ``delete()[0]``): nothing in the statement can read the
    receiver before a statement after it runs. An async method's call must be awaited (unawaited,
    it writes nothing)."""
    node = value
    while node is not call:
        if isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Subscript) and all(
                isinstance(element.slice, cst.Index) and isinstance(element.slice.value, (cst.Integer, cst.SimpleString))
                for element in node.slice):
            node = node.value
        elif isinstance(node, cst.Await) and node.expression is call:
            return True
        elif isinstance(node, cst.Await):
            node = node.expression
        else:
            return False
    return not asynchronous


def _starred(small: cst.BaseSmallStatement) -> bool:
    """``*found, created = ...``: an unpacking whose shape the fix does not follow."""
    return isinstance(small, cst.Assign) and any(
        isinstance(target.target, (cst.Tuple, cst.List))
        and any(isinstance(e, cst.StarredElement) for e in target.target.elements)
        for target in small.targets)
