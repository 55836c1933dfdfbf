"""OTO003: an unsaved model instance reaches a save point through a relation.

``place = Place(name="x")`` builds an instance that is not in the database.
Attaching it to a relation (``Restaurant(place=place)``, ``r.place = place``)
never raises: since Django 1.8.4 the check happens at the next *save point*, and
what happens there depends on the API and on the Django version:

* ``Restaurant.objects.create(place=place)``, ``Restaurant(place=place).save()``,
  ``r.place = place; r.save()``, ``bulk_create()``, ``bulk_update()`` (4.1+), a
  ``get_or_create()``/``update_or_create()`` ``defaults`` entry: ``ValueError:
  save() prohibited to prevent data loss due to unsaved related object 'place'``;
* ``filter()``/``exclude()``/``get()`` with ``place=place`` or ``place__in=[place]``,
  and the lookup part of ``get_or_create()``/``update_or_create()``: a
  ``ValueError`` on Django 5.0+, but on 4.2 and older a *silent* ``IS NULL``
  lookup that returns unrelated rows (the more dangerous form);
* the reverse and many-to-many managers of an unsaved instance
  (``restaurant.waiter_set.create()``, ``article.tags.add(tag)``), adding an unsaved
  instance to a manager, and ``QuerySet.update(place=place)``: ``ValueError``;
* ``book.author = author`` while ``author`` is unsaved leaves ``book.author_id``
  ``None`` until ``book.save()``, even when ``author`` is saved in between.

The Django history behind the version split (``target-version`` picks the message):
#10811 (1.8) made assigning an unsaved instance raise, #25160 (1.8.4) moved that check
to ``save()``; #28147 (3.0) lets a child saved after its parent pick up the parent's
late primary key; #19580 (4.1) makes the reverse managers of an unsaved instance raise
instead of answering empty; #7488 deprecated unsaved instances in related filters in
4.1 and makes them raise in 5.0: up to 4.2 they are a silent ``IS NULL``.

Besides constructors, unsaved instances come from a ModelForm (``form.save(commit=False)``,
``form.instance`` before ``form.save()``), a model formset's ``save(commit=False)`` (its new
forms' own instances: followed only while nothing else, such as another ``save()`` of it,
its ``forms`` or handing it over, may save them), factory_boy's ``build()``/``build_batch()``, model_bakery's ``prepare()``, a
helper of the module or a method of the class (``self.build_place()``) that returns one, and
pytest fixtures (:mod:`.handed`); none of these gets a fix. Comprehensions over a list of
known elements bind their variable to each element, as ``for`` loops do. A GenericForeignKey raises the same ``save()``
error from Django 4.1 (before: ``object_id`` saved NULL); no fix, since it copied the
primary key when assigned. ``set_password()``/``full_clean()`` are not saves.

Not flagged: an instance saved on every path before the save point
(``place.save()``, ``Place.objects.create()``, ``get_or_create()`` results), the
Django 3.0+ pattern ``r = Restaurant(place=p); p.save(); r.save()``, parameters and
other values of unknown origin, instances handed to code the analysis cannot see
into (``form.save()``, ``parent.add_child(instance=page)``, a helper: they may be
saved there), objects only used in memory, and code that expects the error
(``with pytest.raises(...)``, ``with self.assertRaises(...)``/``assertRaisesMessage``).

The fix saves the instance right before the statement that persists it (an inline
constructor becomes ``Place.objects.create(...)``); for the ``_id`` read it saves the
instance before the assignment. It is safe when the construction reaches the save
point on straight-line code of the same block. It only ever saves an instance built
here and unsaved on every path reaching the insertion point, once, by a name bound
to exactly it: an instance saved on some paths only, or a name that may hold another
object (a parameter, a loop variable), gets no fix. Lookups get no fix: a save is not
what a lookup wants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import libcst as cst

from o2o_lint.cstutil import dotted
from o2o_lint.findings import Fix
from o2o_lint.index.model import ModelInfo, RelationKind
from o2o_lint.rules.base import FileContext, Invalid, Valid
from o2o_lint.rules.oto003_unsaved_instance.flow import FunctionAnalysis, Hit, Obj, Site, State, target_names
from o2o_lint.rules.oto003_unsaved_instance.handed import HandedOver, ModuleFunctions, test_parameters
from o2o_lint.rules.oto003_unsaved_instance.screen import UnsavedInstanceScreen
from o2o_lint.rules.visitor import LintRule

#: Django's error texts: the cases expect them, the messages quote them.
_SAVE_ERROR = "\"ValueError: {op}() prohibited to prevent data loss due to unsaved related object '{field}'.\""
_FILTER_ERROR = '"ValueError: Model instances passed to related filters must be saved."'
_NO_LOOKUP_FIX = "no automatic fix: a save is not what a lookup wants; look up with a saved instance or skip the query"


# -- the cases. The models every snippet below uses (Django's own Place/Restaurant/Waiter example,
#    the forum thread's Author/Book, and a many-to-many pair)
_MODELS = """\
from django.db import models


class Place(models.Model):
    name = models.CharField(max_length=50)


class Restaurant(models.Model):
    place = models.OneToOneField(Place, models.CASCADE, primary_key=True)
    serves_pizza = models.BooleanField(default=False)


class Waiter(models.Model):
    restaurant = models.ForeignKey(Restaurant, models.CASCADE)
    name = models.CharField(max_length=50)


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    author = models.ForeignKey(Author, models.SET_NULL, null=True)
    title = models.CharField(max_length=50)


class Tag(models.Model):
    name = models.CharField(max_length=50)


class Article(models.Model):
    tags = models.ManyToManyField(Tag)
"""


#: ModelForms of the cases' models: plain, inherited, and with an __init__ / save() of their own.
_FORMS = """\
from django import forms

from places.models import Place


class PlaceForm(forms.ModelForm):
    class Meta:
        model = Place
        fields = ["name"]


class NamedPlaceForm(PlaceForm):
    pass


class OwnInitForm(forms.ModelForm):
    class Meta:
        model = Place
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)


class OwnSaveForm(forms.ModelForm):
    class Meta:
        model = Place
        fields = ["name"]

    def save(self, commit=True):
        return super().save(commit=commit)
"""
_FORM_FILES = {"places/models.py": _MODELS, "places/forms.py": _FORMS}


#: A profile of Django's user, and a custom user whose set_password() saves.
_ACCOUNTS = """\
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE)


class Account(AbstractBaseUser):
    username = models.CharField(max_length=50, unique=True)
    USERNAME_FIELD = "username"

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.save()


class Membership(models.Model):
    account = models.ForeignKey(Account, models.CASCADE)
"""


#: factory_boy factories of the cases' models (one declares the primary key).
_FACTORIES = """\
import factory
from factory.django import DjangoModelFactory

from places.models import Place


class PlaceFactory(DjangoModelFactory):
    class Meta:
        model = Place

    name = factory.Sequence(lambda n: f"place {n}")


class NumberedPlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "places.Place"

    id = factory.Sequence(lambda n: n + 1)
"""
_FACTORY_FILES = {"places/models.py": _MODELS, "places/factories.py": _FACTORIES}


#: A GenericForeignKey (contenttypes), as Django's documentation declares it.
_TAGGING = """\
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Bookmark(models.Model):
    url = models.URLField()


class TaggedItem(models.Model):
    tag = models.SlugField()
    content_type = models.ForeignKey(ContentType, models.CASCADE)
    object_id = models.PositiveIntegerField(null=True)
    content_object = GenericForeignKey("content_type", "object_id")
"""


_VALID = [
    # Saved first, on every path.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='Demon Dogs')
            p.save()
            return Restaurant.objects.create(place=p)
        """,
        files={"places/models.py": _MODELS},
        id="saved-first",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place.objects.create(name='Demon Dogs')
            return Restaurant.objects.create(place=p)
        """,
        files={"places/models.py": _MODELS},
        id="created-first",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p, _ = Place.objects.get_or_create(name='Demon Dogs')
            return Restaurant.objects.create(place=p)
        """,
        files={"places/models.py": _MODELS},
        id="got-or-created-first",
    ),
    # Django 3.0+: the late pk is picked up by the child's save().
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='Demon Dogs')
            r = Restaurant(place=p)
            p.save()
            r.save()
        """,
        files={"places/models.py": _MODELS},
        id="saved-late-before-child",
    ),
    # Parameters and values of unknown origin are never "unsaved".
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant(place):
            return Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        id="parameter",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant(form):
            place = form.instance
            return Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        id="value-of-unknown-origin",
    ),
    # Handed to code the analysis cannot see into: it may be saved there.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant(parent):
            place = Place(name='x')
            parent.add_child(instance=place)
            return Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        id="handed-to-unknown-method",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        from places.helpers import store


        def open_restaurant():
            place = Place(name='x')
            store(place)
            return Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        id="handed-to-imported-function",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            place = Place(name='x')
            place.publish()
            return Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        id="own-method-called",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant(PlaceForm, data):
            place = Place(name='x')
            form = PlaceForm(data, instance=place)
            form.save()
            return Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        id="handed-to-form",
    ),
    # Objects built for in-memory use never reach a save point.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def preview():
            place = Place(name='x')
            restaurant = Restaurant(place=place)
            return str(restaurant), restaurant.place.name
        """,
        files={"places/models.py": _MODELS},
        id="in-memory-use",
    ),
    # Code that expects the error.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        import pytest


        def test_unsaved():
            p3 = Place(name='Demon Dogs')
            with pytest.raises(ValueError):
                Restaurant.objects.create(place=p3)
        """,
        files={"places/models.py": _MODELS},
        id="pytest-raises",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        from django.test import TestCase


        class Tests(TestCase):
            def test_unsaved(self):
                p3 = Place(name='Demon Dogs')
                msg = 'save() prohibited'
                with self.assertRaisesMessage(ValueError, msg):
                    Restaurant.objects.create(place=p3)
                with self.assertRaises(ValueError):
                    Restaurant.objects.filter(place=p3)
        """,
        files={"places/models.py": _MODELS},
        id="assert-raises",
    ),
    # Guarded by a pk test.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='x')
            if p.pk is None:
                p.save()
            return Restaurant.objects.create(place=p)
        """,
        files={"places/models.py": _MODELS},
        id="guarded-by-pk-test",
    ),
    # try/get, except/create-and-save.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant(name):
            try:
                p = Place.objects.get(name=name)
            except Place.DoesNotExist:
                p = Place(name=name)
                p.save()
            return Restaurant.objects.create(place=p)
        """,
        files={"places/models.py": _MODELS},
        id="try-get-except-create",
    ),
    # Shadowing: the right-hand side reads the old value (a parameter), not the new instance.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def copy(restaurant):
            restaurant = Restaurant(place=restaurant.place)
            restaurant.save()
            return restaurant
        """,
        files={"places/models.py": _MODELS},
        id="shadowed-parameter",
    ),
    # A local name that shadows a model class is not the model.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def build(Place):
            p = Place(name='x')
            return Restaurant.objects.create(place=p)
        """,
        files={"places/models.py": _MODELS},
        id="local-name-shadows-model",
    ),
    # Not a relation, and lookups through a saved value.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def find():
            p = Place(name='x')
            return Restaurant.objects.filter(place__name=p.name)
        """,
        files={"places/models.py": _MODELS},
        id="lookup-through-saved-value",
    ),
    # Saved in a loop before use.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_all(names):
            for name in names:
                p = Place(name=name)
                p.save()
                Restaurant.objects.create(place=p)
        """,
        files={"places/models.py": _MODELS},
        id="saved-in-loop",
    ),
    # A loop that saves its variable saves every element of the container it runs over.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def write_two():
            authors = (Author(name='1'), Author(name='2'))
            for author in authors:
                author.save()
            books = (Book(author=authors[0]), Book(author=authors[1]))
            Book.objects.bulk_create(books)
        """,
        files={"places/models.py": _MODELS},
        id="container-saved-by-loop",
    ),
    # The same after an unrelated, correct save in the same function (it once made the
    # whole file reach the analysis, and the loop above was then reported).
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def setup():
            p = Place(name='x')
            p.save()
            Restaurant(place=p).save()
            authors = (Author(name='1'), Author(name='2'))
            for author in authors:
                author.save()
            books = (Book(author=authors[0]), Book(author=authors[1]))
            Book.objects.bulk_create(books)


        def other():
            authors = [Author(name='1'), Author(name='2')]
            for author in authors:
                author.save()
            Book.objects.bulk_create([Book(author=a) for a in authors])
        """,
        files={"places/models.py": _MODELS},
        id="loop-saved-next-to-other-code",
    ),
    # try/except that rebinds the instance to None: every path past `if author:` saved it
    # (tendenci's accounts/views.py).
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def register(name):
            author = Author(name=name)
            try:
                author.save()
            except Exception:
                author = None
            if author:
                book = Book()
                book.author = author
                book.save()
        """,
        files={"places/models.py": _MODELS},
        id="except-rebinds-to-none",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def register(names):
            for name in names:
                found = Author.objects.filter(name=name)
                if found:
                    author = found[0]
                else:
                    author = Author()
                    author.name = name
                    try:
                        author.save()
                    except:
                        author = None
                if author:
                    book = Book()
                    book.author = author
                    book.save()
        """,
        files={"places/models.py": _MODELS},
        id="except-rebinds-to-none-in-loop",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def register(name):
            author = Author(name=name)
            try:
                author.save()
            except Exception:
                author = None
            if author is None:
                return None
            return Book.objects.create(author=author, title='y')
        """,
        files={"places/models.py": _MODELS},
        id="none-guard-early-return",
    ),
    # Unsaved only when `create` is false, used only when it is true (weblate's lang/models.py).
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def auto_create(name, base, create=True):
            if create:
                author = Author.objects.get_or_create(name=name)[0]
            else:
                author = Author(name=name)
            if base is not None:
                author.name = base.name
                if create:
                    author.save()
                    author.book_set.create(title='x')
            elif create:
                author.book_set.create(title='y')
            return author
        """,
        files={"places/models.py": _MODELS},
        id="correlated-conditions",
    ),
    # Children attached right after their parent's save, in a loop that builds parents that
    # stay unsaved on other iterations (pretix's services/cart.py).
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def publish(batches):
            books = []
            for batch in batches:
                author = Author(name=batch.name)
                if batch.titles:
                    author.save()
                    for title in batch.titles:
                        books.append(Book(author=author, title=title))
            for book in books:
                if not book.pk:
                    book.save()
        """,
        files={"places/models.py": _MODELS},
        id="attached-after-save-in-loop",
    ),
    # The _id is read after book.save(), or the author was saved before the assignment.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def write():
            author = Author(name='x')
            book = Book(title='y')
            book.author = author
            author.save()
            book.save()
            return book.author_id
        """,
        files={"places/models.py": _MODELS},
        id="id-read-after-save",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def write():
            author = Author(name='x')
            author.save()
            book = Book(title='y')
            book.author = author
            return book.author_id
        """,
        files={"places/models.py": _MODELS},
        id="saved-before-assignment",
    ),
    # Reverse manager add with bulk=False saves the instance.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def hire(restaurant):
            w = Waiter(name='Joe')
            restaurant.waiter_set.add(w, bulk=False)
        """,
        files={"places/models.py": _MODELS},
        id="manager-add-bulk-false",
    ),
    # A save() override that saves the relation first.
    Valid(
        """
        from django.db import models


        class Place(models.Model):
            name = models.CharField(max_length=50)


        class Restaurant(models.Model):
            place = models.OneToOneField(Place, models.CASCADE)

            def save(self, *args, **kwargs):
                if self.place.pk is None:
                    self.place.save()
                super().save(*args, **kwargs)


        def open_restaurant():
            return Restaurant.objects.create(place=Place(name='x'))
        """,
        id="save-override-saves-relation",
    ),
    # An instance built with its primary key is not unsaved for Django.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def find():
            return Book.objects.filter(author=Author(id=1))
        """,
        files={"places/models.py": _MODELS},
        id="built-with-primary-key",
    ),
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place.objects.create(name='x')
            r = Restaurant(place=p)  # the primary key: r.pk is set
            return r.waiter_set.count()
        """,
        files={"places/models.py": _MODELS},
        id="child-with-saved-primary-key",
    ),
    # A class that is not a model.
    Valid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        from elsewhere import Thing


        def build():
            t = Thing()
            return Restaurant.objects.create(place=t)
        """,
        files={"places/models.py": _MODELS},
        id="class-that-is-no-model",
    ),
    # ModelForms: an instance that may be saved, or bound to a row, is not followed.
    Valid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(data):
            form = PlaceForm(data)
            form.save()
            return Restaurant.objects.create(place=form.instance)
        """,
        files=_FORM_FILES,
        id="form-saved-first",
    ),
    Valid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(data):
            form = PlaceForm(data)
            place = form.save(commit=False)
            place.save()
            return Restaurant.objects.create(place=place)
        """,
        files=_FORM_FILES,
        id="form-commit-false-then-saved",
    ),
    Valid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(data):
            form = PlaceForm(data, instance=Place.objects.get(name='x'))
            place = form.save(commit=False)
            return Restaurant.objects.create(place=place)
        """,
        files=_FORM_FILES,
        id="form-bound-to-a-row",
    ),
    Valid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(data, commit):
            form = PlaceForm(data)
            place = form.save(commit=commit)
            return Restaurant.objects.create(place=place)
        """,
        files=_FORM_FILES,
        id="form-commit-of-unknown-value",
    ),
    Valid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(data, existing):
            form = PlaceForm(data)
            form.instance = existing
            return Restaurant.objects.create(place=form.save(commit=False))
        """,
        files=_FORM_FILES,
        id="form-instance-replaced",
    ),
    Valid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(data, handle):
            form = PlaceForm(data)
            handle(form)
            return Restaurant.objects.create(place=form.instance)
        """,
        files=_FORM_FILES,
        id="form-handed-to-code-not-seen",
    ),
    Valid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(data):
            form = OwnInitForm(data)
            place = form.save(commit=False)
            Restaurant.objects.create(place=place)
            form = OwnSaveForm(data)
            return Restaurant.objects.create(place=form.save(commit=False))
        """,
        files=_FORM_FILES,
        id="form-with-own-init-or-save",
    ),
    Valid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(form):
            place = form.save(commit=False)
            return Restaurant.objects.create(place=place)
        """,
        files=_FORM_FILES,
        id="form-of-unknown-class",
    ),
    # refresh_from_db() raises DoesNotExist for an unsaved instance: only the saved one goes on.
    Valid(
        """
        from django.contrib.auth.models import User

        from accounts.models import Profile


        def register(name, publish):
            user = User(username=name)
            if publish:
                user.save()
            user.refresh_from_db()
            return Profile.objects.create(user=user)
        """,
        files={"accounts/models.py": _ACCOUNTS},
        id="refresh-from-db-of-unsaved-raises",
    ),
    # A project's own set_password() may save (this one does).
    Valid(
        """
        from accounts.models import Account, Membership


        def register(name, password):
            account = Account(username=name)
            account.set_password(password)
            return Membership.objects.create(account=account)
        """,
        files={"accounts/models.py": _ACCOUNTS},
        id="overridden-set-password-may-save",
    ),
    # factory_boy / model_bakery: saving strategies, and built instances given a primary key.
    Valid(
        """
        from model_bakery import baker

        from places.factories import NumberedPlaceFactory, PlaceFactory
        from places.models import Place, Restaurant


        def test_open():
            Restaurant.objects.create(place=PlaceFactory())
            Restaurant.objects.create(place=PlaceFactory.create())
            Restaurant.objects.create(place=baker.make(Place))
        """,
        files=_FACTORY_FILES,
        id="factory-create-and-bakery-make-save",
    ),
    Valid(
        """
        from model_bakery import baker

        from places.factories import NumberedPlaceFactory, PlaceFactory
        from places.models import Place, Restaurant


        def test_open():
            place = PlaceFactory.build()
            place.save()
            Restaurant.objects.create(place=place)
        """,
        files=_FACTORY_FILES,
        id="factory-build-then-saved",
    ),
    Valid(
        """
        from model_bakery import baker

        from places.factories import NumberedPlaceFactory, PlaceFactory
        from places.models import Place, Restaurant


        def test_open(fields):
            Restaurant.objects.create(place=NumberedPlaceFactory.build())
            Restaurant.objects.create(place=PlaceFactory.build(id=7))
            Restaurant.objects.create(place=PlaceFactory.build(**fields))
        """,
        files=_FACTORY_FILES,
        id="factory-build-with-a-primary-key",
    ),
    # Helpers and fixtures: followed only when they hand over an unsaved instance on every path.
    Valid(
        """
        import pytest

        from places.factories import PlaceFactory
        from places.models import Place, Restaurant


        @pytest.fixture(scope="module")
        def place():
            return PlaceFactory.build()


        def test_open(place):
            Restaurant.objects.create(place=place)
        """,
        files=_FACTORY_FILES,
        id="fixture-of-another-scope",
    ),
    Valid(
        """
        import pytest

        from places.factories import PlaceFactory
        from places.models import Place, Restaurant


        @pytest.fixture
        def place():
            return PlaceFactory.build()


        @pytest.fixture
        def saved(place):
            place.save()
            return place


        def test_open(saved, place):
            Restaurant.objects.create(place=place)
        """,
        files=_FACTORY_FILES,
        id="fixture-received-by-another-fixture",
    ),
    Valid(
        """
        import pytest

        from places.factories import PlaceFactory
        from places.models import Place, Restaurant


        @pytest.fixture
        def place():
            return PlaceFactory.build()


        @pytest.mark.parametrize("place", [None])
        def test_open(place):
            Restaurant.objects.create(place=place)


        class TestOpen:
            @pytest.fixture
            def place(self):
                return Place.objects.create(name="x")

            def test_open(self, place):
                Restaurant.objects.create(place=place)
        """,
        files=_FACTORY_FILES,
        id="fixture-overridden",
    ),
    Valid(
        """
        import pytest

        from places.factories import PlaceFactory
        from places.models import Place, Restaurant


        def saved_place(name):
            place = Place(name=name)
            place.save()
            return place


        def maybe_place(name):
            if name:
                return Place(name=name)
            return None


        def open_restaurant(name, existing):
            Restaurant.objects.create(place=saved_place(name))
            Restaurant.objects.create(place=maybe_place(name))
        """,
        files=_FACTORY_FILES,
        id="helper-returns-saved-or-maybe-none",
    ),
    Valid(
        """
        from places.models import Place, Restaurant


        def test_open(place):
            Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS, "app/conftest.py": """\
        import pytest

        from places.models import Place


        @pytest.fixture
        def place():
            return Place.objects.create(name="x")
        """},
        id="conftest-fixture-saved",
    ),
    # A GenericForeignKey given a saved instance; a lookup on it is a FieldError, not this trap.
    Valid(
        """
        from tagging.models import Bookmark, TaggedItem


        def tag(url):
            bookmark = Bookmark(url=url)
            bookmark.save()
            TaggedItem.objects.create(tag="x", content_object=bookmark)
            item = TaggedItem(tag="y")
            item.content_object = Bookmark.objects.create(url=url)
            item.save()
        """,
        files={"tagging/models.py": _TAGGING},
        id="generic-foreign-key-saved",
    ),
    # Assigned again after the save, or the object id set by hand: the key holds the primary key.
    Valid(
        """
        from tagging.models import Bookmark, TaggedItem


        def tag(url):
            bookmark = Bookmark(url=url)
            item = TaggedItem(tag="x", content_object=bookmark)
            bookmark.save()
            item.content_object = bookmark
            item.save()
            other = Bookmark(url=url)
            second = TaggedItem(tag="y", content_object=other)
            other.save()
            second.object_id = other.pk
            second.save()
        """,
        files={"tagging/models.py": _TAGGING},
        id="generic-foreign-key-assigned-again",
    ),
    # Comprehensions over a list whose elements were all saved (bulk_create() sets their
    # primary keys on SQLite 3.35+, PostgreSQL and MariaDB: Django 4.2, 5.2, 6.1 run).
    Valid(
        """
        from places.models import Place, Restaurant


        def open_all(names):
            places = [Place(name=n) for n in names]
            Place.objects.bulk_create(places)
            Restaurant.objects.bulk_create([Restaurant(place=p) for p in places])


        def open_each(names):
            places = [Place(name=n) for n in names]
            for place in places:
                place.save()
            Restaurant.objects.bulk_create([Restaurant(place=p) for p in places])


        def open_published(names, published):
            places = [Place(name=n) for n in names]
            for place, publish in zip(places, published):
                if publish:
                    place.save()
            Restaurant.objects.bulk_create([Restaurant(place=p) for p in [p for p in places if p.pk]])
        """,
        files={"places/models.py": _MODELS},
        id="comprehension-over-saved-elements",
    ),
    # A method that a subclass overrides (or may: a base the index does not know comes
    # first in its MRO) may return a saved instance.
    Valid(
        """
        from elsewhere import Mixin
        from places.models import Place, Restaurant


        class Opening:
            def build_place(self):
                return Place(name="x")

            def run(self):
                Restaurant.objects.create(place=self.build_place())


        class SavedOpening(Opening):
            def build_place(self):
                return Place.objects.create(name="y")


        class Service:
            def build_place(self):
                return Place(name="x")

            def run(self):
                Restaurant.objects.create(place=self.build_place())


        class MixedService(Mixin, Service):
            pass
        """,
        files={"places/models.py": _MODELS},
        id="method-helper-maybe-overridden",
    ),
    # Formsets whose save(commit=False) the analysis does not follow: a formset class of the
    # project's own (its save_new() may save), edit_only or max_num (maybe no new objects), save() (saved).
    Valid(
        """
        from django.forms import BaseModelFormSet, modelformset_factory

        from places.models import Place, Restaurant


        class PlaceBaseFormSet(BaseModelFormSet):
            pass


        CustomFormSet = modelformset_factory(Place, fields=["name"], formset=PlaceBaseFormSet)
        EditFormSet = modelformset_factory(Place, fields=["name"], edit_only=True)
        BoundedFormSet = modelformset_factory(Place, fields=["name"], extra=0, max_num=0)
        PlaceFormSet = modelformset_factory(Place, fields=["name"])


        def open_all(data):
            for place in CustomFormSet(data).save(commit=False):
                Restaurant.objects.create(place=place)
            for place in EditFormSet(data).save(commit=False):
                Restaurant.objects.create(place=place)
            for place in BoundedFormSet(data).save(commit=False):
                Restaurant.objects.create(place=place)
            for place in PlaceFormSet(data).save():
                Restaurant.objects.create(place=place)
            for place in PlaceFormSet(data).save(commit=False):
                place.save()
                Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        id="formset-not-followed-or-saved",
    ),
    # save(commit=False) returns the forms' own instances: once anything may have saved them (a
    # first list's loop, formset.save(), the forms or their instances, iterating the formset,
    # handing it over), a list of them, earlier or later, may hold saved objects. Silent.
    Valid(
        """
        from django.forms import modelformset_factory

        from elsewhere import persist
        from places.models import Place, Restaurant

        PlaceFormSet = modelformset_factory(Place, fields=["name"])


        def listed_again_after_saving(data):
            formset = PlaceFormSet(data)
            for place in formset.save(commit=False):
                place.save()
            for place in formset.save(commit=False):
                Restaurant.objects.create(place=place)


        def formset_saved(data):
            formset = PlaceFormSet(data)
            objs = formset.save(commit=False)
            formset.save()
            for o in objs:
                Restaurant.objects.create(place=o)


        def forms_saved(data):
            formset = PlaceFormSet(data)
            objs = formset.save(commit=False)
            for form in formset.forms:
                form.save()
            for o in objs:
                Restaurant.objects.create(place=o)


        def extra_forms_instances_saved(data):
            formset = PlaceFormSet(data)
            objs = formset.save(commit=False)
            for form in formset.extra_forms:
                form.instance.save()
            Restaurant.objects.bulk_create([Restaurant(place=o) for o in objs])


        def formset_iterated(data):
            formset = PlaceFormSet(data)
            objs = formset.save(commit=False)
            for form in formset:
                form.save()
            Restaurant.objects.bulk_create([Restaurant(place=o) for o in objs])


        def formset_handed_over(data):
            formset = PlaceFormSet(data)
            persist(formset)
            for place in formset.save(commit=False):
                Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        id="formset-instances-saved-via-formset",
    ),
    # A form of a class the index does not know (a third-party app's, or a name of unknown
    # origin such as a view's ``form`` parameter): its __init__ may bind it to an existing row,
    # so save(commit=False) may return a saved instance. Silent, whatever its model.
    Valid(
        """
        from allauth.account.forms import SignupForm
        from django.views.generic import CreateView

        from places.models import Place, Restaurant


        def sign_up(request):
            form = SignupForm(request.POST)
            place = form.save(commit=False)
            return Restaurant.objects.create(place=place)


        class OpenView(CreateView):
            model = Place
            fields = ["name"]

            def form_valid(self, form):
                place = form.save(commit=False)
                Restaurant.objects.create(place=place)
                return super().form_valid(form)
        """,
        files={"places/models.py": _MODELS},
        id="form-of-third-party-class",
    ),
]


_INVALID = [
    # The seed: Django's documentation example.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p3 = Place(name='Demon Dogs')
            return Restaurant.objects.create(place=p3, serves_pizza=False)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p3 = Place(name='Demon Dogs')
            p3.save()
            return Restaurant.objects.create(place=p3, serves_pizza=False)
        """,
        expected_messages=[
            "unsaved `p3` (Place, constructed on line 5) reaches `Restaurant.objects.create(place=p3, "
            "serves_pizza=False)` through the relation `Restaurant.place`",
        ],
        id="django-docs-example",
        range=(6, 11, 6, 66),
    ),
    # An inline constructor becomes Model.objects.create(...).
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            return Restaurant.objects.create(place=Place(name='x'))
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            return Restaurant.objects.create(place=Place.objects.create(name='x'))
        """,
        expected_messages=["`Place(...)` (constructed inline on line 5)"],
        id="inline-constructor",
        range=(5, 11, 5, 59),
    ),
    # Model(rel=x).save(), with the comment above the statement kept in place.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='x')
            # the restaurant
            Restaurant(place=p).save()
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='x')
            # the restaurant
            p.save()
            Restaurant(place=p).save()
        """,
        expected_messages=["`Restaurant.place`"],
        id="save-with-comment-kept",
        range=(7, 4, 7, 30),
    ),
    # r = Model(rel=x) ... r.save(): saved right before the statement that persists it.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='x')
            r = Restaurant(place=p)
            r.serves_pizza = True
            r.save()
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='x')
            r = Restaurant(place=p)
            r.serves_pizza = True
            p.save()
            r.save()
        """,
        expected_messages=["`r.save()` through the relation `Restaurant.place`"],
        id="saved-before-persisting-statement",
        range=(8, 4, 8, 12),
    ),
    # r.rel = x on an instance of unknown origin, then r.save().
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def move(r):
            p = Place(name='x')
            r.place = p
            r.save()
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def move(r):
            p = Place(name='x')
            r.place = p
            p.save()
            r.save()
        """,
        expected_messages=["`Restaurant.place`"],
        id="assigned-on-unknown-instance",
        range=(7, 4, 7, 12),
    ),
    # bulk_create of instances that point at an unsaved one.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def staff(restaurant_names):
            p = Place(name='x')
            Restaurant.objects.bulk_create([Restaurant(place=p)])
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def staff(restaurant_names):
            p = Place(name='x')
            p.save()
            Restaurant.objects.bulk_create([Restaurant(place=p)])
        """,
        expected_messages=["bulk_create() prohibited"],
        id="bulk-create",
        range=(6, 4, 6, 57),
    ),
    # ... through a list built on straight-line code.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def publish(titles):
            author = Author(name='x')
            books = []
            books.append(Book(author=author, title='y'))
            Book.objects.bulk_create(books)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def publish(titles):
            author = Author(name='x')
            books = []
            books.append(Book(author=author, title='y'))
            author.save()
            Book.objects.bulk_create(books)
        """,
        expected_messages=["`author` (Author, constructed on line 5)"],
        id="bulk-create-from-list",
        range=(8, 4, 8, 35),
    ),
    # bulk_update: 4.1+ raises, older releases silently wrote NULL.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def rehome(books):
            author = Author(name='x')
            for book in books:
                book.author = author
            Book.objects.bulk_update(books, ['author'])
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def rehome(books):
            author = Author(name='x')
            for book in books:
                book.author = author
            author.save()
            Book.objects.bulk_update(books, ['author'])
        """,
        expected_messages=["`Book.author`"],
        unsafe=True,
        id="bulk-update-in-loop",
        range=(8, 4, 8, 47),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def rehome(book):
            author = Author(name='x')
            book.author = author
            Book.objects.bulk_update([book], ['author'])
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def rehome(book):
            author = Author(name='x')
            book.author = author
            author.save()
            Book.objects.bulk_update([book], ['author'])
        """,
        expected_messages=["bulk_update() prohibited to prevent data loss"],
        id="bulk-update",
        range=(7, 4, 7, 48),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def rehome(book):
            author = Author(name='x')
            book.author = author
            Book.objects.bulk_update([book], ['author'])
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def rehome(book):
            author = Author(name='x')
            book.author = author
            author.save()
            Book.objects.bulk_update([book], ['author'])
        """,
        expected_messages=["silently writes NULL"],
        target_version=(4, 0),
        id="bulk-update-before-django-4-1",
        range=(7, 4, 7, 48),
    ),
    # get_or_create / update_or_create: in the lookup (NULL match below 5.0) or in defaults.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='x')
            r, created = Restaurant.objects.get_or_create(place=p)
            return r
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='x')
            p.save()
            r, created = Restaurant.objects.get_or_create(place=p)
            return r
        """,
        expected_messages=[_FILTER_ERROR],
        id="get-or-create-lookup",
        range=(6, 17, 6, 58),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def first_book():
            author = Author(name='x')
            return Book.objects.get_or_create(author=author, defaults={'title': 'y'})
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def first_book():
            author = Author(name='x')
            author.save()
            return Book.objects.get_or_create(author=author, defaults={'title': 'y'})
        """,
        expected_messages=["silently matches NULL (`author IS NULL`)"],
        target_version=(4, 2),
        id="get-or-create-lookup-with-defaults",
        range=(6, 11, 6, 77),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def first_book():
            author = Author(name='x')
            return Book.objects.update_or_create(title='y', defaults={'author': author})
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def first_book():
            author = Author(name='x')
            author.save()
            return Book.objects.update_or_create(title='y', defaults={'author': author})
        """,
        expected_messages=["save() prohibited to prevent data loss due to unsaved related object 'author'"],
        id="update-or-create-defaults",
        range=(6, 11, 6, 80),
    ),
    # Lookups: reported, never fixed; the wording follows --target-version.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def find():
            p = Place(name='x')
            return Restaurant.objects.filter(place=p)
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["Django raises " + _FILTER_ERROR + " (Django 5.0+); " + _NO_LOOKUP_FIX],
        id="filter-lookup",
        range=(6, 11, 6, 45),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def find():
            author = Author(name='x')
            return list(Book.objects.filter(author=author))
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["silently matches NULL (`author IS NULL`) and returns unrelated rows"],
        target_version=(4, 2),
        id="filter-lookup-in-list",
        range=(6, 16, 6, 50),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def find():
            author = Author(name='x')
            return Book.objects.exclude(author=author).get(author__in=[author])
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["`Book.objects.exclude(author=author)` with unsaved `author`", "silently becomes NULL"],
        target_version=(3, 2),
        id="exclude-and-in-lookup",
        range=(6, 11, 6, 46),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        from django.db.models import Q


        def find():
            p = Place(name='x')
            return Restaurant.objects.get(Q(place=p) | Q(serves_pizza=True))
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["`Restaurant.place`"],
        id="q-object-lookup",
        range=(9, 11, 9, 68),
    ),
    # Reverse and many-to-many managers of an unsaved instance.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def write():
            author = Author(name='x')
            author.book_set.create(title='y')
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def write():
            author = Author(name='x')
            author.save()
            author.book_set.create(title='y')
        """,
        expected_messages=["the reverse manager `author.book_set` of unsaved `author`"],
        id="reverse-manager-create",
        range=(6, 4, 6, 37),
    ),
    # ... whose own relation (here its primary key) is unsaved too: both saved, in order.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def hire():
            place = Place(name='x')
            restaurant = Restaurant(place=place)
            restaurant.waiter_set.create(name='Joe')
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def hire():
            place = Place(name='x')
            restaurant = Restaurant(place=place)
            place.save()
            restaurant.save()
            restaurant.waiter_set.create(name='Joe')
        """,
        expected_messages=["needs to have a value for field 'place_id' before this relationship can be used"],
        id="nested-unsaved-relations",
        range=(7, 4, 7, 44),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def tag(tag):
            article = Article()
            article.tags.add(tag)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def tag(tag):
            article = Article()
            article.save()
            article.tags.add(tag)
        """,
        expected_messages=[
            "'<Article: ...>' needs to have a value for field 'id' before this many-to-many relationship can be "
            "used",
        ],
        id="many-to-many-add-on-unsaved",
        range=(6, 4, 6, 25),
    ),
    # Reading through the manager of an unsaved instance: no fix, it wants no save.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def count():
            author = Author(name='x')
            return author.book_set.count()
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["returns an empty result"],
        target_version=(4, 0),
        id="read-through-unsaved-manager",
        range=(6, 11, 6, 34),
    ),
    # Adding an unsaved instance to a manager.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def tag(article_id):
            article = Article.objects.get(pk=article_id)
            tag = Tag(name='x')
            article.tags.add(tag)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def tag(article_id):
            article = Article.objects.get(pk=article_id)
            tag = Tag(name='x')
            tag.save()
            article.tags.add(tag)
        """,
        expected_messages=["unsaved `tag` (Tag, constructed on line 6) is added through `Article.tags`"],
        id="unsaved-added-to-m2m-manager",
        range=(7, 4, 7, 25),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def hire(restaurant):
            w = Waiter(name='Joe')
            restaurant.waiter_set.add(w)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def hire(restaurant):
            w = Waiter(name='Joe')
            restaurant.waiter_set.add(w, bulk=False)
        """,
        expected_messages=["Use bulk=False or save the object first"],
        id="unsaved-added-to-reverse-manager",
        range=(6, 4, 6, 32),
    ),
    # QuerySet.update().
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def reassign():
            author = Author(name='x')
            Book.objects.filter(title='y').update(author=author)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def reassign():
            author = Author(name='x')
            author.save()
            Book.objects.filter(title='y').update(author=author)
        """,
        expected_messages=["cannot be used in an ORM query"],
        id="queryset-update",
        range=(6, 4, 6, 56),
    ),
    # The forum thread: book.author_id stays None.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def write():
            author = Author(name='x')
            book = Book(title='y')
            book.author = author
            author.save()
            return book.author_id
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def write():
            author = Author(name='x')
            book = Book(title='y')
            author.save()
            book.author = author
            author.save()
            return book.author_id
        """,
        expected_messages=[
            "`book.author_id` is None here: `book.author` was set on line 7 to unsaved `author` (Author, "
            "constructed on line 5)",
        ],
        id="forum-author-id-stays-none",
        range=(9, 11, 9, 25),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def write():
            author = Author(name='x')
            book = Book(author=author, title='y')
            author.save()
            print(book.author_id)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def write():
            author = Author(name='x')
            author.save()
            book = Book(author=author, title='y')
            author.save()
            print(book.author_id)
        """,
        expected_messages=["`book.author_id` is None here"],
        id="id-read-when-set-in-constructor",
        range=(8, 10, 8, 24),
    ),
    # A loop that saves some elements only: reported, and never fixed by saving the loop
    # variable (it holds the last element, not the container).
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def write_two():
            authors = (Author(name='1'), Author(name='2'))
            for author in authors:
                if author.name == '1':
                    author.save()
            Book.objects.bulk_create([Book(author=authors[0]), Book(author=authors[1])])
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["no automatic fix"],
        id="loop-saves-some-elements",
        range=(9, 4, 9, 80),
    ),
    # A None guard does not help when the instance itself is unsaved on a non-None path.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def register(name, publish):
            author = Author(name=name)
            if publish:
                author.save()
            if author is not None:
                Book.objects.create(author=author, title='y')
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["saved on some paths only"],
        id="none-guard-on-unsaved",
        range=(9, 8, 9, 53),
    ),
    # The condition that left it unsaved is the one the save point runs under.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def auto_create(name, create=True):
            if create:
                author = Author.objects.get_or_create(name=name)[0]
            else:
                author = Author(name=name)
            if not create:
                author.book_set.create(title='y')
            return author
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["the reverse manager `author.book_set`"],
        id="correlated-conditions-unsaved",
        range=(10, 8, 10, 41),
    ),
    # Saved on some paths only: reported, no fix (a save there could save it twice).
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant(publish):
            p = Place(name='x')
            if publish:
                p.save()
            return Restaurant.objects.create(place=p)
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["saved on some paths only"],
        id="saved-on-some-paths",
        range=(8, 11, 8, 45),
    ),
    # Built on one branch, reaching the save point after the branches join: on the other
    # path `place` is the caller's (maybe an existing row): no fix.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant(place=None):
            if place is None:
                place = Place(name='x')
            return Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["no automatic fix"],
        id="built-on-one-branch",
        range=(7, 11, 7, 49),
    ),
    # Save point under a try that catches ValueError: the fix may change what runs.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='x')
            try:
                Restaurant.objects.create(place=p)
            except ValueError:
                pass
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant():
            p = Place(name='x')
            try:
                p.save()
                Restaurant.objects.create(place=p)
            except ValueError:
                pass
        """,
        unsafe=True,
        id="try-catches-value-error",
        range=(7, 8, 7, 42),
    ),
    # Rebinding: the right-hand side reads the old value, the name then holds the new one.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def publish(author):
            author = Author(name=author)
            return Book.objects.create(author=author, title='y')
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def publish(author):
            author = Author(name=author)
            author.save()
            return Book.objects.create(author=author, title='y')
        """,
        id="rebinding",
        range=(6, 11, 6, 56),
    ),
    # The reverse one-to-one assignment sets the forward side: saving it needs `place`.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant(restaurant):
            place = Place(name='x')
            place.restaurant = restaurant
            restaurant.save()
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        def open_restaurant(restaurant):
            place = Place(name='x')
            place.restaurant = restaurant
            place.save()
            restaurant.save()
        """,
        expected_messages=[
            "`place` (Place, constructed on line 5) reaches `restaurant.save()` through the relation "
            "`Restaurant.place`",
        ],
        id="reverse-one-to-one-assignment",
        range=(7, 4, 7, 21),
    ),
    # Managers of an instance reached through an attribute.
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        class Tests:
            def test_add(self):
                w = Waiter(name='Joe')
                self.restaurant.waiter_set.add(w)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        class Tests:
            def test_add(self):
                w = Waiter(name='Joe')
                self.restaurant.waiter_set.add(w, bulk=False)
        """,
        expected_messages=["`Restaurant.waiter_set`"],
        id="manager-through-attribute",
        range=(7, 8, 7, 41),
    ),
    # Aliased imports, local imports and async code.
    Invalid(
        """
        from places.models import Place as P, Restaurant as R


        def open_restaurant():
            p = P(name='x')
            R.objects.create(place=p)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Place as P, Restaurant as R


        def open_restaurant():
            p = P(name='x')
            p.save()
            R.objects.create(place=p)
        """,
        id="aliased-imports",
        range=(6, 4, 6, 29),
    ),
    Invalid(
        """
        def open_restaurant():
            from places import models

            p = models.Place(name='x')
            models.Restaurant.objects.create(place=p)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        def open_restaurant():
            from places import models

            p = models.Place(name='x')
            p.save()
            models.Restaurant.objects.create(place=p)
        """,
        id="local-import",
        range=(5, 4, 5, 45),
    ),
    Invalid(
        """
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        async def open_restaurant():
            p = Place(name='x')
            return await Restaurant.objects.acreate(place=p)
        """,
        files={"places/models.py": _MODELS},
        expected_fix="""
        from places.models import Article, Author, Book, Place, Restaurant, Tag, Waiter


        async def open_restaurant():
            p = Place(name='x')
            await p.asave()
            return await Restaurant.objects.acreate(place=p)
        """,
        id="async-create",
        range=(6, 17, 6, 52),
    ),
    # Models and code in the same module, and module-level code.
    Invalid(
        """
        from django.db import models


        class Place(models.Model):
            name = models.CharField(max_length=50)


        class Restaurant(models.Model):
            place = models.OneToOneField(Place, models.CASCADE)


        DEMO = Restaurant.objects.create(place=Place(name='demo'))
        """,
        expected_fix="""
        from django.db import models


        class Place(models.Model):
            name = models.CharField(max_length=50)


        class Restaurant(models.Model):
            place = models.OneToOneField(Place, models.CASCADE)


        DEMO = Restaurant.objects.create(place=Place.objects.create(name='demo'))
        """,
        id="module-level-code",
        range=(12, 7, 12, 58),
    ),
    # A model method: `self` is an instance of the enclosing model.
    Invalid(
        """
        from django.db import models


        class Place(models.Model):
            name = models.CharField(max_length=50)


        class Restaurant(models.Model):
            place = models.OneToOneField(Place, models.CASCADE, null=True)

            def relocate(self, name):
                self.place = Place(name=name)
                self.save()
        """,
        expected_fix="""
        from django.db import models


        class Place(models.Model):
            name = models.CharField(max_length=50)


        class Restaurant(models.Model):
            place = models.OneToOneField(Place, models.CASCADE, null=True)

            def relocate(self, name):
                self.place = Place.objects.create(name=name)
                self.save()
        """,
        expected_messages=["`Place(...)` (constructed inline on line 12)"],
        id="model-method-self",
        range=(13, 8, 13, 19),
    ),
    # ModelForms: the instance a form builds is unsaved until form.save() (no fix: commit=False
    # is deliberate, and saving it is the view's decision).
    Invalid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(data, publish):
            form = PlaceForm(data)
            place = form.save(commit=False)
            if publish:
                place.save()
            return Restaurant.objects.create(place=place)
        """,
        files=_FORM_FILES,
        expected_messages=[
            'unsaved `place` (Place from `form.save(commit=False)` on line 7) reaches `Restaurant.objects.create(place=place)`',
        ],
        id="form-commit-false-saved-on-one-branch",
        range=(10, 11, 10, 49),
    ),
    Invalid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(data):
            form = NamedPlaceForm(data)
            if form.is_valid():
                Restaurant.objects.create(place=form.instance)
                form.save()
        """,
        files=_FORM_FILES,
        expected_messages=[
            'unsaved `form.instance` (Place, line 8) reaches `Restaurant.objects.create(place=form.instance)`',
        ],
        id="form-instance-before-form-save",
        range=(8, 8, 8, 54),
    ),
    Invalid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def open_restaurant(data):
            form = PlaceForm(data)
            place = form.save(commit=False)
            restaurant = Restaurant()
            restaurant.place = place
            restaurant.save()
        """,
        files=_FORM_FILES,
        expected_messages=[
            'reaches `restaurant.save()` through the relation `Restaurant.place`: Django raises',
        ],
        id="form-commit-false-assigned-then-saved",
        range=(10, 4, 10, 21),
    ),
    Invalid(
        """
        from places.forms import NamedPlaceForm, OwnInitForm, OwnSaveForm, PlaceForm
        from places.models import Place, Restaurant


        def find(data):
            form = PlaceForm(data)
            return Restaurant.objects.filter(place=form.save(commit=False))
        """,
        files=_FORM_FILES,
        expected_messages=[
            'with unsaved `form.save(commit=False)` (Place, line 7) in the lookup `place`',
        ],
        id="form-commit-false-in-a-lookup",
        range=(7, 11, 7, 67),
    ),
    # Methods that look like they persist but do not: Django's set_password(), full_clean(),
    # clean_fields() leave the user unsaved.
    Invalid(
        """
        from django.contrib.auth.models import User

        from accounts.models import Profile


        def register(name, password):
            user = User(username=name)
            user.set_password(password)
            user.full_clean()
            user.clean_fields()
            return Profile.objects.create(user=user)
        """,
        files={"accounts/models.py": _ACCOUNTS},
        expected_fix="""
        from django.contrib.auth.models import User

        from accounts.models import Profile


        def register(name, password):
            user = User(username=name)
            user.set_password(password)
            user.full_clean()
            user.clean_fields()
            user.save()
            return Profile.objects.create(user=user)
        """,
        expected_messages=["unsaved `user` (User, constructed on line 7) reaches `Profile.objects.create(user=user)`"],
        id="set-password-is-not-a-save",
        range=(11, 11, 11, 44),
    ),
    # factory_boy build() and model_bakery prepare(): never saved (no fix: the strategy was chosen).
    Invalid(
        """
        from model_bakery import baker

        from places.factories import NumberedPlaceFactory, PlaceFactory
        from places.models import Place, Restaurant


        def test_open():
            place = PlaceFactory.build()
            Restaurant.objects.create(place=place)
        """,
        files=_FACTORY_FILES,
        expected_messages=[
            'unsaved `place` (Place from `PlaceFactory.build()` on line 8) reaches `Restaurant.objects.create(place=place)` through the relation `Restaurant.place`: Django raises',
        ],
        id="factory-build",
        range=(9, 4, 9, 42),
    ),
    Invalid(
        """
        from model_bakery import baker

        from places.factories import NumberedPlaceFactory, PlaceFactory
        from places.models import Place, Restaurant


        def test_open():
            for place in PlaceFactory.build_batch(2):
                Restaurant.objects.create(place=place)
        """,
        files=_FACTORY_FILES,
        expected_messages=[
            'no automatic fix: `PlaceFactory.build_batch(2)` builds it unsaved on purpose; use `PlaceFactory.create()` to save it',
        ],
        id="factory-build-batch",
        range=(9, 8, 9, 46),
    ),
    Invalid(
        """
        from model_bakery import baker

        from places.factories import NumberedPlaceFactory, PlaceFactory
        from places.models import Place, Restaurant


        def test_open():
            Restaurant.objects.create(place=baker.prepare(Place))
            Restaurant.objects.filter(place=baker.prepare("places.Place"))
        """,
        files=_FACTORY_FILES,
        expected_messages=[
            'unsaved `baker.prepare(Place)` (Place, line 8) reaches',
            'in the lookup `place`',
        ],
        id="bakery-prepare",
        range=(8, 4, 8, 57),
    ),
    # A helper of the module that returns the unsaved instance, and pytest fixtures (of the
    # module, of a conftest.py) that provide one.
    Invalid(
        """
        from places.forms import PlaceForm
        from places.models import Place, Restaurant


        def _draft(data):
            form = PlaceForm(data)
            place = form.save(commit=False)
            place.name = data["name"].title()
            return place


        def open_restaurant(data):
            place = _draft(data)
            return Restaurant.objects.create(place=place)
        """,
        files=_FORM_FILES,
        expected_messages=["unsaved `place` (Place from `_draft(data)` on line 13) reaches"],
        id="helper-returns-form-instance",
        range=(14, 11, 14, 49),
    ),
    Invalid(
        """
        import pytest

        from places.factories import PlaceFactory
        from places.models import Place, Restaurant


        @pytest.fixture
        def place():
            yield PlaceFactory.build()


        def test_open(place):
            Restaurant.objects.create(place=place)
        """,
        files=_FACTORY_FILES,
        expected_messages=[
            "unsaved `place` (Place from the fixture `place` on line 12) reaches "
            "`Restaurant.objects.create(place=place)`",
        ],
        id="module-fixture-builds",
        range=(13, 4, 13, 42),
    ),
    Invalid(
        """
        from places.models import Place, Restaurant


        class TestOpen:
            def test_open(self, place):
                assert place.restaurant_set if False else True
                Restaurant.objects.create(place=place)
        """,
        files={**_FACTORY_FILES, "app/conftest.py": """\
        import pytest

        from places.factories import PlaceFactory


        @pytest.fixture
        def place():
            return PlaceFactory.build(name="conftest")
        """},
        expected_messages=["no automatic fix: the fixture `place` builds it unsaved on purpose; use `PlaceFactory.create()`"],
        id="conftest-fixture-builds",
        range=(7, 8, 7, 46),
    ),
    # GenericForeignKey: save() and create() raise (Django 4.1+; 4.0 and older saved object_id NULL).
    # No fix: the key copied the primary key (None) when it was assigned.
    Invalid(
        """
        from tagging.models import Bookmark, TaggedItem


        def tag(url):
            bookmark = Bookmark(url=url)
            item = TaggedItem(tag="x")
            item.content_object = bookmark
            item.save()
            return TaggedItem.objects.create(tag="y", content_object=Bookmark(url=url))
        """,
        files={"tagging/models.py": _TAGGING},
        expected_messages=[
            "unsaved `bookmark` (Bookmark, constructed on line 5) reaches `item.save()` through the relation "
            "`TaggedItem.content_object`: Django raises \"ValueError: save() prohibited to prevent data loss due to "
            "unsaved related object 'content_object'.\"",
            "no automatic fix: a GenericForeignKey keeps the primary key it was given",
        ],
        id="generic-foreign-key",
        range=(8, 4, 8, 15),
    ),
    Invalid(
        """
        from places.models import Place, Restaurant


        def test_open(new_place):
            Restaurant.objects.create(place=new_place)
        """,
        files={**_FACTORY_FILES, "app/conftest.py": "from app.fixtures import *  # noqa: F403\n",
               "app/fixtures.py": """\
        import pytest

        from places.models import Place


        @pytest.fixture
        def new_place():
            return Place(name="imported")
        """},
        expected_messages=["unsaved `new_place` (Place from the fixture `new_place` on line 4) reaches"],
        id="fixture-imported-by-conftest",
        range=(5, 4, 5, 46),
    ),
    # Saved after it was given to a GenericForeignKey: the key kept None, the owner's save()
    # writes a NULL object id (Django 4.2, 5.2, 6.1).
    Invalid(
        """
        from tagging.models import Bookmark, TaggedItem


        def tag(url):
            bookmark = Bookmark(url=url)
            item = TaggedItem(tag="x", content_object=bookmark)
            bookmark.save()
            item.save()
        """,
        files={"tagging/models.py": _TAGGING},
        expected_messages=[
            "`item.content_object` was set on line 6 to `bookmark` (Bookmark, constructed on line 5) while it was "
            "unsaved: a GenericForeignKey copies the primary key (None) when it is assigned, so `item.save()` writes "
            "a NULL object id",
        ],
        id="generic-foreign-key-saved-too-late",
        range=(8, 4, 8, 15),
    ),
    # Comprehensions over a list of unsaved instances (Django 4.2, 5.2, 6.1 raise).
    Invalid(
        """
        from places.models import Article, Place, Restaurant, Tag


        def open_all(names):
            places = [Place(name=n) for n in names]
            Restaurant.objects.bulk_create([Restaurant(place=p) for p in places])


        def tag(article, names):
            tags = [Tag(name=n) for n in names]
            article.tags.add(*tags)
        """,
        files={"places/models.py": _MODELS},
        expected_messages=[
            "(no automatic fix: it is built in a comprehension or a conditional expression of another statement)",
            "unsaved `Tag(...)` (constructed inline on line 10) is added through `Article.tags` in "
            "`article.tags.add(*tags)`",
        ],
        id="comprehension-over-unsaved",
        range=(6, 4, 6, 73),
    ),
    # A method of the class that returns an instance it built: self.build_place().
    Invalid(
        """
        from places.models import Place, Restaurant


        class Opening:
            def build_place(self):
                place = Place(name="x")
                return place

            def run(self):
                place = self.build_place()
                Restaurant(place=place).save()
        """,
        files={"places/models.py": _MODELS},
        expected_messages=[
            "unsaved `place` (Place from `self.build_place()` on line 10) reaches `Restaurant(place=place).save()` "
            "through the relation `Restaurant.place`",
        ],
        id="method-helper-returns-unsaved",
        range=(11, 8, 11, 38),
    ),
    # A model formset's save(commit=False) lists its new forms' objects unsaved.
    Invalid(
        """
        from django.forms import modelformset_factory

        from places.models import Place, Restaurant

        PlaceFormSet = modelformset_factory(Place, fields=["name"])


        def open_all(data, publish):
            formset = PlaceFormSet(data)
            for place in formset.save(commit=False):
                if publish:
                    place.save()
                Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        expected_messages=[
            "(Place from `formset.save(commit=False)` on line 10) reaches `Restaurant.objects.create(place=place)` "
            "through the relation `Restaurant.place`: Django raises \"ValueError: save() prohibited to prevent data "
            "loss due to unsaved related object 'place'.\"; save it first (no automatic fix: `formset.save(commit=False)` "
            "builds it unsaved on purpose; save each new object",
        ],
        id="formset-commit-false-saved-on-one-branch",
        range=(13, 8, 13, 46),
    ),
    Invalid(
        """
        from django.forms import inlineformset_factory

        from places.models import Restaurant, Waiter


        def hire(data, restaurant):
            WaiterFormSet = inlineformset_factory(Restaurant, Waiter, fields=["name"])
            waiters = WaiterFormSet(data, instance=restaurant).save(commit=False)
            return Restaurant.objects.filter(waiter__in=waiters).exists()
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["with unsaved `WaiterFormSet(data, instance=restaurant)"],
        id="inline-formset-commit-false-lookup",
        range=(9, 11, 9, 56),
    ),
    # Validating the formset saves nothing: its save(commit=False) is still followed.
    Invalid(
        """
        from django.forms import modelformset_factory

        from places.models import Place, Restaurant

        PlaceFormSet = modelformset_factory(Place, fields=["name"])


        def open_all(data):
            formset = PlaceFormSet(data)
            if formset.is_valid() and not formset.errors:
                for place in formset.save(commit=False):
                    Restaurant.objects.create(place=place)
        """,
        files={"places/models.py": _MODELS},
        expected_messages=["(Place from `formset.save(commit=False)` on line 11)"],
        id="formset-validated-then-commit-false",
        range=(12, 12, 12, 50),
    ),
]


class UnsavedInstance(UnsavedInstanceScreen, LintRule):
    VALID = _VALID
    INVALID = _INVALID

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.know = context.index.django
        # Scopes being traversed: (node, names bound in it). Python's rule: a name assigned
        # anywhere in a function is local to all of it, so the analysis of a function runs
        # when the traversal leaves it, with every binding seen.
        self.scopes: list[tuple[cst.CSTNode, set[str]]] = []
        self.used: dict[int, set[str]] = {}  # id(def, class or lambda) -> names read inside
        self.handed: HandedOver | None = None
        self.module_formsets: dict[str, cst.Call] = {}

    # -- traversal: collect bindings and uses, then analyse each function on leaving it --

    def _bind(self, *names: str) -> None:
        if self.scopes:
            self.scopes[-1][1].update(names)

    def _push(self, node: cst.CSTNode) -> None:
        self.used[id(node)] = set()
        self.scopes.append((node, set()))

    def visit_Name(self, node: cst.Name) -> None:
        for scope, _ in self.scopes:
            self.used[id(scope)].add(node.value)

    def visit_Param(self, node: cst.Param) -> None:
        self._bind(node.name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._bind(*target_names(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(*target_names(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(*target_names(node.target))

    def visit_For(self, node: cst.For) -> None:
        self._bind(*target_names(node.target))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(*target_names(node.target))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(*target_names(node.target))

    def visit_AsName(self, node: cst.AsName) -> None:
        self._bind(*target_names(node.name))

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        self._bind(node.evaluated_alias or node.evaluated_name.split(".")[0])

    def visit_Module(self, node: cst.Module) -> None:
        facts = self.context.facts
        here = ModuleFunctions(node, facts["module"], bool(facts.get("is_package")))
        self.handed = HandedOver(self.context.index, self._summary_analysis, here, self.context.abspath)
        self.module_formsets = _module_formsets(node)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._push(node)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name.value)
        self._push(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value)
        self._push(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        node, bound = self.scopes.pop()
        enclosing = self.scopes[-1][0] if self.scopes else None
        analysis = self._analysis(bound, is_async=original_node.asynchronous is not None)
        state = State()
        if isinstance(enclosing, cst.ClassDef) and len(self.scopes) == 1:
            self._bind_self(original_node, enclosing, analysis, state)
            self._bind_methods(original_node, enclosing, analysis)
        if enclosing is None or isinstance(enclosing, cst.ClassDef) and len(self.scopes) == 1:
            self._bind_fixtures(original_node, enclosing, analysis, state)
        body = original_node.body
        if isinstance(body, cst.IndentedBlock):
            analysis.run(body.body, body, state)
        else:
            analysis.run_suite(body, state)

    def leave_Module(self, original_node: cst.Module) -> None:
        # module-level code; names resolve through the module's imports and classes
        self._analysis(set(), is_async=False).run(original_node.body, original_node)

    def _bind_self(self, node: cst.FunctionDef, klass: cst.ClassDef, analysis: FunctionAnalysis, state: State) -> None:
        """In a method of a model class, the first parameter is an instance of that model."""
        decorators = {d.decorator.value for d in node.decorators if isinstance(d.decorator, cst.Name)}
        if decorators & {"staticmethod", "classmethod"} or not node.params.params:
            return
        model = self.context.index.model_for_class(self.context.abspath, klass.name.value)
        if model is None:
            return
        name = node.params.params[0].name.value
        state.names[name] = frozenset({analysis.ref_object(name, model)})

    def _bind_methods(self, node: cst.FunctionDef, klass: cst.ClassDef, analysis: FunctionAnalysis) -> None:
        """In a method, ``self.build_place()``: what the class's own method of that name returns."""
        decorators = {d.decorator.value for d in node.decorators if isinstance(d.decorator, cst.Name)}
        if decorators & {"staticmethod", "classmethod"} or not node.params.params or self.handed is None:
            return
        handed = self.handed
        analysis.self_name = node.params.params[0].name.value
        analysis.method_handed_by = lambda name: handed.method(klass, name)

    def _bind_fixtures(self, node: cst.FunctionDef, klass: cst.CSTNode | None, analysis: FunctionAnalysis,
                       state: State) -> None:
        """A pytest test's parameters: the unsaved instances its fixtures provide."""
        if self.handed is None:
            return
        for param in test_parameters(node, klass if isinstance(klass, cst.ClassDef) else None):
            handed = self.handed.fixture(param.name.value)
            if handed is not None:
                state.names[param.name.value] = analysis.receive(handed, param, param.name.value, state)

    def _analysis(self, local_names: set[str], *, is_async: bool) -> FunctionAnalysis:
        facts = self.context.facts
        return FunctionAnalysis(
            django=self.know,
            resolve=self.context.resolve,
            module=facts["module"],
            is_package=bool(facts.get("is_package")),
            line_of=lambda node: self.position(node).start.line,
            on_hit=self._on_hit,
            local_names=local_names,
            is_async=is_async,
            used_names=self.used,
            handed_by=self.handed.helper if self.handed is not None else None,
            module_formsets=self.module_formsets,
        )

    def _summary_analysis(self, *, module: str, is_package: bool, local_names: set[str],
                          handed_by: Callable[[str], object], self_name: str | None = None,
                          method_handed_by: Callable[[str], object] | None = None) -> FunctionAnalysis:
        """An analysis of a helper or fixture, possibly of another module: it reports nothing."""
        return FunctionAnalysis(
            django=self.know,
            resolve=lambda dotted: self.context.index.resolve(module, dotted),
            module=module,
            is_package=is_package,
            line_of=lambda node: 0,
            on_hit=lambda hit: None,
            local_names=local_names,
            is_async=False,
            handed_by=handed_by,  # type: ignore[arg-type]
            self_name=self_name,
            method_handed_by=method_handed_by,  # type: ignore[arg-type]
        )

    # -- findings ------------------------------------------------------------------

    def _on_hit(self, hit: Hit) -> None:
        found_fix, note = fix(self, hit)
        said = message(hit, self.context.settings.target_version, self.know.pk_attname)
        if note:
            said += f" ({note})"
        self.report(hit.node, said, found_fix)


def _module_formsets(module: cst.Module) -> dict[str, cst.Call]:
    """Module-level ``ChildFormSet = inlineformset_factory(...)`` bound once: name -> the call
    (the analysis decides whether it is Django's factory)."""
    found: dict[str, cst.Call | None] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Assign):
                continue
            for target in small.targets:
                for name in target_names(target.target):
                    value = small.value
                    is_factory = (isinstance(value, cst.Call) and len(small.targets) == 1
                                  and isinstance(target.target, cst.Name)
                                  and (dotted(value.func) or "").endswith("formset_factory"))
                    found[name] = value if is_factory and name not in found else None  # type: ignore[assignment]
    return {name: call for name, call in found.items() if call is not None}


# -- messages: one entry per kind of save point (``Hit.kind``) -----------------------


class _Words(NamedTuple):
    """What every message says about a hit."""

    hit: Hit
    obj: Obj  # the first unsaved instance
    instance: str  # how the message names it
    relation: str  # ``Model.field``
    version: tuple[int, int]  # the target Django version
    pk_attname: Callable[[ModelInfo], str]


def _instance(obj: Obj, hit: Hit) -> str:
    model = obj.model.name if obj.model is not None else "model"
    name = hit.names.get(obj.oid) or obj.label
    if obj.origin:
        return f"`{name}` ({model} from {_origin(obj)} on line {obj.line})" if name else (
            f"`{obj.origin}` ({model}, line {obj.line})")
    if name:
        return f"`{name}` ({model}, constructed on line {obj.line})"
    return f"`{model}(...)` (constructed inline on line {obj.line})"


def _origin(obj: Obj) -> str:
    """What handed an instance over: code (```form.save(commit=False)```), or a fixture."""
    return f"the fixture `{obj.origin}`" if isinstance(obj.origin_node, cst.Param) else f"`{obj.origin}`"


def _relation(hit: Hit) -> str:
    return f"{hit.model.name}.{hit.field}" if hit.model is not None else hit.field


def _persisted(w: _Words) -> str:
    hit = w.hit
    if hit.kind == "bulk_create":
        consequence = f"Django raises {_SAVE_ERROR.format(op='bulk_create', field=hit.field)}"
    elif hit.kind == "bulk_update":
        if w.version >= (4, 1):
            consequence = f"Django raises {_SAVE_ERROR.format(op='bulk_update', field=hit.field)}"
        else:
            consequence = (f"before Django 4.1 it silently writes NULL to `{hit.field}` "
                           "(4.1+ raises ValueError)")
    else:
        consequence = f"Django raises {_SAVE_ERROR.format(op='save', field=hit.field)}"
    more = hit.extra.get("more")
    also = f" (and {more} more relation{'s' if more != 1 else ''})" if more else ""
    return (f"unsaved {w.instance} reaches `{hit.call}` through the relation `{w.relation}`{also}: "
            f"{consequence}; save it first")


def _goc_lookup(w: _Words) -> str:
    hit = w.hit
    if w.version >= (5, 0):
        consequence = f"Django raises {_FILTER_ERROR}"
    else:
        error = _SAVE_ERROR.format(op="save", field=hit.field)
        consequence = (f"before Django 5.0 the lookup silently matches NULL (`{hit.field} IS NULL`) and can "
                       f"return an unrelated row; creating one raises {error}")
    return (f"unsaved {w.instance} reaches `{hit.call}` through the relation `{w.relation}`: "
            f"{consequence}; save it first")


def _update(w: _Words) -> str:
    return (f"unsaved {w.instance} reaches `{w.hit.call}` through the relation `{w.relation}`: Django raises "
            '"ValueError: Unsaved model instance <...> cannot be used in an ORM query."; save it first')


def _lookup(w: _Words) -> str:
    hit = w.hit
    if w.version >= (5, 0):
        consequence = f"Django raises {_FILTER_ERROR} (Django 5.0+)"
    elif hit.kind == "in_lookup":
        consequence = (f"before Django 5.0 the unsaved instance silently becomes NULL in `{hit.lookup}`, "
                       "which matches nothing for it (5.0+ raises ValueError)")
    else:
        consequence = (f"before Django 5.0 the lookup silently matches NULL (`{hit.field} IS NULL`) and "
                       "returns unrelated rows (5.0+ raises ValueError)")
    return (f"`{hit.call}` with unsaved {w.instance} in the lookup `{hit.lookup}` on the relation "
            f"`{w.relation}`: {consequence}; {_NO_LOOKUP_FIX}")


def _manager(w: _Words) -> str:
    hit, obj, kind = w.hit, w.obj, w.hit.kind
    manager = hit.extra["manager"]
    many = getattr(manager, "kind", "") == RelationKind.MANY_TO_MANY
    model_name = obj.model.name if obj.model is not None else "Model"
    owner = hit.names.get(obj.oid) or obj.label or model_name
    label = "many-to-many" if many else "reverse"
    pk = w.pk_attname(obj.model) if obj.model is not None else "id"
    if many:
        consequence = (f"Django raises \"ValueError: '<{model_name}: ...>' needs to have a value for field "
                       f"'{pk}' before this many-to-many relationship can be used.\"")
    elif w.version >= (4, 1):
        if kind == "manager_read":
            consequence = (f"Django raises \"ValueError: '{model_name}' instance needs to have a primary key "
                           'value before this relationship can be used."')
        else:
            consequence = (f"Django raises \"ValueError: '<{model_name}: ...>' needs to have a value for field "
                           f"'{pk}' before this relationship can be used.\"")
    elif kind == "manager_read":
        consequence = "before Django 4.1 it returns an empty result without a query (4.1+ raises ValueError)"
    else:
        consequence = f"Django raises {_SAVE_ERROR.format(op='save', field=getattr(manager, 'field', hit.field))}"
    message = (f"the {label} manager `{owner}.{hit.field}` of unsaved {w.instance} is used in "
               f"`{hit.call}`: {consequence}")
    if kind == "manager_read":
        message += "; no automatic fix: a read does not want a save"
    else:
        message += "; save it first"
    return message


def _m2m_add(w: _Words) -> str:
    return (f"unsaved {w.instance} is added through `{w.relation}` in `{w.hit.call}`: Django raises \"ValueError: "
            "Cannot add '<...>': instance is on database 'default', value is on database 'None'\"; "
            "save it first")


def _reverse_add(w: _Words) -> str:
    return (f"unsaved {w.instance} is added through `{w.relation}` in `{w.hit.call}`: Django raises \"ValueError: "
            "<...> instance isn't saved. Use bulk=False or save the object first.\"")


def _generic_late(w: _Words) -> str:
    hit = w.hit
    owner = hit.owner_name or "instance"
    line = hit.stale.line if hit.stale is not None else 0
    return (f"`{owner}.{hit.field}` was set on line {line} to {w.instance} while it was unsaved: a GenericForeignKey "
            f"copies the primary key (None) when it is assigned, so `{hit.call}` writes a NULL object id although "
            "it is saved since; assign it after saving it")


def _id_read(w: _Words) -> str:
    hit = w.hit
    owner = hit.owner_name or "instance"
    stale = hit.stale
    line = stale.line if stale is not None else 0
    return (f"`{owner}.{hit.field}_id` is None here: `{owner}.{hit.field}` was set on line {line} to unsaved "
            f"{w.instance}, and the `_id` is only filled in by `{owner}.save()`, even if the instance is "
            "saved since; save it before the assignment")


#: Save point kind -> its message: what Django does there, per target version.
MESSAGES: dict[str, Callable[[_Words], str]] = {
    "create": _persisted,  # Model.objects.create(rel=x), and acreate
    "save": _persisted,  # Model(rel=x).save(), obj.rel = x; obj.save()
    "defaults": _persisted,  # get_or_create(defaults={"rel": x})
    "bulk_create": _persisted,
    "bulk_update": _persisted,  # a silent NULL before Django 4.1
    "goc_lookup": _goc_lookup,  # get_or_create(rel=x): the lookup part
    "update": _update,  # QuerySet.update(rel=x)
    "lookup": _lookup,  # filter(rel=x): a silent IS NULL before Django 5.0
    "in_lookup": _lookup,  # filter(rel__in=[x])
    "manager_write": _manager,  # x.waiter_set.create(), x.tags.add(t)
    "manager_read": _manager,  # x.waiter_set.all(): empty before Django 4.1
    "m2m_add": _m2m_add,  # article.tags.add(x)
    "reverse_add": _reverse_add,  # place.waiter_set.add(x)
    "id_read": _id_read,  # r.place = x; r.place_id
    "generic_late": _generic_late,  # item.content_object = x; x.save(); item.save(): object id NULL
}


def message(hit: Hit, version: tuple[int, int], pk_attname: Callable[[ModelInfo], str]) -> str:
    obj = hit.objects[0]
    words = _Words(hit, obj, _instance(obj, hit), _relation(hit), version, pk_attname)
    build = MESSAGES.get(hit.kind)
    if build is None:
        return f"unsaved {words.instance} reaches `{hit.call}` through `{words.relation}`"
    return build(words)


# -- fixes ----------------------------------------------------------------------------


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def fix(rule: UnsavedInstance, hit: Hit) -> tuple[Fix | None, str | None]:
    if hit.kind in ("lookup", "in_lookup", "manager_read"):
        return None, None
    if hit.kind == "reverse_add":
        return _bulk_false_fix(rule, hit)
    if hit.kind == "generic_late":
        return None, "no automatic fix: assign it again after its save, or save it before the assignment"
    if hit.extra.get("generic"):
        # the GenericForeignKey copied the primary key (None) when it was assigned
        return None, "no automatic fix: a GenericForeignKey keeps the primary key it was given; save it before assigning it"
    site = hit.site
    names = hit.names
    to_save = hit.to_save
    if hit.kind == "id_read":
        stale = hit.stale
        if stale is None:
            return None, None
        site = stale.site
        names = dict(stale.names)
    # Not built by a constructor here (a factory's build(), a form): the code chose that, no fix.
    handed = next((o for o in to_save if o.remedy), None)
    if handed is not None:
        return None, f"no automatic fix: {_origin(handed)} builds it unsaved on purpose; {handed.remedy}"
    # ``places = [Place(...) for ...]`` then a save point in another statement: creating each
    # element where it is built would lose what the code sets on it in between.
    if any(o.in_condition and o.ctor is not None and o.site is not None and not o.site.same_statement(site)
           and o.oid not in names for o in to_save):
        return None, "no automatic fix: it is built in a comprehension or a conditional expression of another statement"
    # A fix never saves what might be saved already (a second save, or an existing row).
    if not hit.extra.get("all_unsaved", True) or not (hit.definite or hit.extra.get("partial")):
        return None, "no automatic fix: it is saved on some paths only; save it where it is built"
    handed = next((o for o in to_save if o.origin), None)
    if handed is not None:
        return None, f"no automatic fix: it comes unsaved from {_origin(handed)}, which is left as written"
    reasons: list[str] = []
    if hit.extra.get("partial"):
        reasons.append("it may not be attached to every instance written here")
    overriding = sorted({o.model.name for o in to_save if o.model is not None and _overrides_save(rule, o.model)})
    if overriding:
        reasons.append(f"{', '.join(overriding)} overrides save(): saving it earlier may run code the original did not")
    if site.conditional:
        reasons.append("the save point runs on some paths only")
    if site.catching:
        reasons.append("a ValueError handler around it may expect the error")
    if hit.kind == "id_read" and not site.precedes_in_block(hit.site):
        reasons.append("the `_id` is read on some paths only")
    inline: list[Obj] = []
    named: list[tuple[Obj, str]] = []
    for obj in to_save:
        name = names.get(obj.oid)
        if name is not None:
            if any(n == name for _, n in named):
                return None, None  # one name for two objects: never the same save twice
            named.append((obj, name))
            if obj.site is None or not obj.site.precedes_in_block(site):
                if "not built on straight-line code before it" not in reasons:
                    reasons.append("not built on straight-line code before it")
            continue
        ctor = obj.ctor
        if ctor is None or obj.model is None or any(arg.keyword is None for arg in ctor.args):
            return None, None
        manager, certain = rule.know.manager_name(obj.model)
        if not certain:
            reasons.append(f"check that `{manager}` is the default manager of {obj.model.name}")
        if obj.site is None or not (obj.site.same_statement(site) or obj.site.precedes_in_block(site)):
            if "not built on straight-line code before it" not in reasons:
                reasons.append("not built on straight-line code before it")
        inline.append(obj)
    if named and (site.stmt is None or site.block is None):
        return None, None
    replacements: dict[cst.CSTNode, cst.CSTNode | cst.FlattenSentinel[cst.BaseStatement]] = {}
    statement = site.stmt
    new_ctors = {obj.ctor: _create_call(rule, obj, hit.is_async) for obj in inline if obj.ctor is not None}
    inside = {c: n for c, n in new_ctors.items() if named and c is not None and _within(c, statement)}
    for ctor, new in new_ctors.items():
        if ctor not in inside and ctor is not None:
            replacements[ctor] = new
    span_nodes: list[cst.CSTNode] = [c for c in new_ctors if c is not None]
    if named:
        assert statement is not None
        replaced = statement
        for ctor, new in inside.items():
            replaced = replaced.deep_replace(ctor, new)  # type: ignore[assignment]
        replacements[statement] = _insert_saves(replaced, site, [n for _, n in named], hit.is_async)
        span_nodes.append(statement)
    if not replacements:
        return None, None
    saved = ", ".join(f"`{n}`" for _, n in named)
    created = ", ".join(f"`{o.model.name}(...)`" for o in inline if o.model is not None)
    parts = []
    if saved:
        parts.append(f"save {saved} first" if hit.kind != "id_read" else f"save {saved} before the assignment")
    if created:
        parts.append(f"create {created} with `.objects.create(...)`")
    safe = not reasons
    fix = Fix(
        description=_sentence("; ".join(parts)),
        safe=safe,
        replacements=replacements,  # type: ignore[arg-type]
        span=rule.span_of(*span_nodes),
    )
    return fix, None if safe else "fix is unsafe: " + "; ".join(reasons)


def _overrides_save(rule: UnsavedInstance, model: ModelInfo) -> bool:
    """A ``save()``/``asave()`` override somewhere in the model's hierarchy."""
    return any({"save", "asave"} & ancestor.methods for ancestor in rule.know.ancestors(model))


def _within(node: cst.CSTNode, container: cst.CSTNode | None) -> bool:
    if container is None:
        return False
    stack = [container]
    while stack:
        current = stack.pop()
        if current is node:
            return True
        stack.extend(current.children)
    return False


def _create_call(rule: UnsavedInstance, obj: Obj, is_async: bool) -> cst.BaseExpression:
    assert obj.ctor is not None and obj.model is not None
    manager, _ = rule.know.manager_name(obj.model)
    method = "acreate" if is_async else "create"
    func = cst.Attribute(value=cst.Attribute(value=obj.ctor.func, attr=cst.Name(manager)), attr=cst.Name(method))
    call = obj.ctor.with_changes(func=func)
    return cst.Await(expression=call) if is_async else call


def _save_statement(name: str, is_async: bool) -> cst.BaseSmallStatement:
    code = f"await {name}.asave()" if is_async else f"{name}.save()"
    return cst.Expr(cst.parse_expression(code))


def _insert_saves(statement: cst.CSTNode, site: Site, names: list[str],
                  is_async: bool) -> cst.CSTNode | cst.FlattenSentinel[cst.BaseStatement]:
    saves = [_save_statement(name, is_async) for name in names]
    if isinstance(statement, cst.SimpleStatementLine) and site.small > 0:
        body = list(statement.body)
        semicolon = cst.Semicolon(whitespace_before=cst.SimpleWhitespace(""),
                                  whitespace_after=cst.SimpleWhitespace(" "))
        body[site.small:site.small] = [s.with_changes(semicolon=semicolon) for s in saves]
        return statement.with_changes(body=body)
    leading = getattr(statement, "leading_lines", ())
    lines = [cst.SimpleStatementLine([save]) for save in saves]
    lines[0] = lines[0].with_changes(leading_lines=leading)
    moved = statement.with_changes(leading_lines=()) if leading else statement
    return cst.FlattenSentinel([*lines, moved])  # type: ignore[list-item]


def _bulk_false_fix(rule: UnsavedInstance, hit: Hit) -> tuple[Fix | None, str | None]:
    call = hit.node
    if not isinstance(call, cst.Call) or any(a.keyword is not None and a.keyword.value == "bulk" for a in call.args):
        return None, None
    args = list(call.args)
    last = args[-1]
    if last.comma is cst.MaybeSentinel.DEFAULT:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    args.append(cst.Arg(
        value=cst.Name("False"), keyword=cst.Name("bulk"),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    ))
    reasons = []
    if not hit.definite:
        reasons.append("some of the added instances may be saved already; bulk=False saves each of them again")
    fix = Fix("Pass bulk=False so that add() saves the new instance", safe=not reasons,
              replacements={call: call.with_changes(args=args)}, span=rule.span_of(call))
    return fix, ("fix is unsafe: " + "; ".join(reasons)) if reasons else None
