"""The backoffice's shared admin plumbing: the default site's titles, the base
`ServiceModelAdmin` (every save and delete goes through the app's services) and form widgets
generated from our JSON schemas. The readable HTML of the pages (badges, tables, documents,
audit changes) is in `opsportal.admin_html`; the dashboard app adds its own URL.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django_jsonform.widgets import JSONFormWidget

from opsportal.admin_html import document_html
from opsportal.documents import DocumentServices
from opsportal.errors import ApplicationError, ValidationFailed
from opsportal.limits import MAX_DEPTH, document_problems, replace_bad_text

# --------------------------------------------------------------------------- the default site

admin.site.site_header = "Ops Portal backoffice"
admin.site.site_title = "Ops Portal"
admin.site.index_title = "Release management"


# --------------------------------------------------------------------------- JSON schema widgets

# What django-jsonform can draw, with the label of each in a type picker.
_WIDGET_TYPES = {"string": "Text", "number": "Number", "integer": "Whole number", "boolean": "Yes/no"}
_SCALAR = {"anyOf": [{"type": name, "title": title} for name, title in _WIDGET_TYPES.items() if name != "integer"]}


def _choice_title(value: str) -> str:
    return value.replace("_", " ").capitalize()


def widget_schema(
    schema: dict[str, Any], *, overrides: dict[str, Any] | None = None, choice_titles: dict[str, str] | None = None
) -> dict[str, Any]:
    """A copy of one of our schemas that django-jsonform can draw (our schema stays the validator).

    django-jsonform supports a subset of JSON Schema: `type` must be one name (a list of
    types becomes `anyOf`, with a type picker), an object needs `properties` (a free-form
    object gets scalar `additionalProperties`, so numbers and booleans stay numbers and
    booleans), and string enums read better as choices with titles. `overrides` sets
    dotted paths in the copy (`"items.properties.environment.help_text"`); `choice_titles`
    names enum values (else `in_progress` reads "In progress").
    """
    titles = choice_titles or {}

    def clean(node: Any) -> Any:
        if isinstance(node, list):
            return [clean(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: clean(value) for key, value in node.items()}
        if isinstance(node.get("type"), list):
            types = [name for name in node.pop("type") if name in _WIDGET_TYPES]
            if len(types) == 1:
                node["type"] = types[0]
            else:
                node["anyOf"] = [{"type": name, "title": _WIDGET_TYPES[name]} for name in types]
                # Limits of one of the types (a string's `maxLength`) stay with our schema, which validates.
                for keyword in ("maxLength", "minLength"):
                    node.pop(keyword, None)
        if node.get("additionalProperties") is False:
            del node["additionalProperties"]
        if node.get("type") == "object":
            node.setdefault("properties", {})
            if not node["properties"] and not isinstance(node.get("additionalProperties"), dict):
                node["additionalProperties"] = copy.deepcopy(_SCALAR)
        if node.get("type") == "string" and isinstance(node.get("enum"), list):
            node["choices"] = [
                {"title": titles.get(value) or _choice_title(value), "value": value} for value in node.pop("enum")
            ]
        return node

    schema = clean(copy.deepcopy(schema))
    for dotted, value in (overrides or {}).items():
        node = schema
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return schema


def json_widget(schema: dict[str, Any] | Callable[[], dict[str, Any]]) -> JSONFormWidget:
    """The form UI for one embedded document (a callable schema is evaluated at each render)."""
    return JSONFormWidget(schema=schema)


class LimitedJSONField(forms.JSONField):
    """The form field of every embedded document in the admin (issue #10): JSON nested too deep for
    Python's parser is a form error, not a 500, and a stored value with a lone surrogate (written
    before the input limits) is drawn with U+FFFD instead of failing the page. The input limits
    themselves are checked by `ServiceModelForm`, for every field alike."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except RecursionError:
            raise ValidationError(f"Nested more than {MAX_DEPTH} levels deep.", code="too_deep") from None

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return InvalidJSONInput(data)

    def prepare_value(self, value: Any) -> Any:
        return super().prepare_value(
            value if isinstance(value, InvalidJSONInput) else replace_bad_text(value, nul=False)
        )


# --------------------------------------------------------------------------- saves through services


class ServiceRefused(Exception):
    """A service refused a save or delete from an admin form; carries the ApplicationError."""

    def __init__(self, error: ApplicationError) -> None:
        super().__init__(error.message)
        self.error = error


def refusal_errors(error: ApplicationError, fields: Iterable[str]) -> list[tuple[str | None, list[str]]]:
    """(form field or None, messages) for a service's refusal."""
    fields = set(fields)
    if isinstance(error, ValidationFailed):
        result: list[tuple[str | None, list[str]]] = []
        for field, field_messages in (error.extra.get("errors") or {}).items():
            result.append((field if field in fields else None, [str(message) for message in field_messages]))
        return result or [(None, [error.message])]
    return [(None, [error.message])]


class ServiceModelForm(forms.ModelForm):
    """A model form whose object is saved by a service; shows that service's refusal as form errors."""

    refusal: ApplicationError | None = None

    def clean(self) -> dict[str, Any]:
        """The input limits of the API's parser (`opsportal.limits`), for every field: no lone surrogate
        or NUL in any string or key of a document, no nesting deeper than `MAX_DEPTH`."""
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            problems = document_problems(value, root=name)
            if problems:
                self.add_error(
                    name if name in self.fields else None, [f"{path}: {message}" for path, message in problems]
                )
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.refusal is not None:
            for field, field_messages in refusal_errors(self.refusal, self.fields):
                self.add_error(field, field_messages)


class SlugIdFormMixin:
    """An optional slug id on the add form: it defaults to the slug of the name (as the services do)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "id" in self.fields:
            self.fields["id"].required = False
            self.fields["id"].help_text = "Leave blank to use the slug of the name."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "id" in self.fields and not cleaned.get("id") and cleaned.get("name"):
            cleaned["id"] = slugify(cleaned["name"])[:64]
        return cleaned


class SlugIdServiceModelForm(SlugIdFormMixin, ServiceModelForm):
    """The form of a document with a slug id (teams, workflows): the admin supplies the model and fields."""


class PageChangeList(ChangeList):
    """Lets the admin load what the page's rows refer to in one query per kind (no query per row)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        annotate = getattr(self.model_admin, "annotate_page", None)
        if annotate is not None:
            annotate(request, list(self.result_list))


class ServiceModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes go through the app's services.

    Subclasses set `services`, the app's `DocumentServices` (e.g. `teams.services.SERVICES`), or
    override `service_create`, `service_update` and `service_delete`. A refused
    save shows the form again with the refusal as errors (the user's input is kept); a
    refused delete returns to the object with the reason as an error message.
    """

    form = ServiceModelForm
    # The app's write services; `update` and `delete` take the object by its model name (`team=`…).
    services: DocumentServices | None = None
    # Form fields handed to the services; on change only those the user changed.
    service_fields: tuple[str, ...] = ()
    # field name → JSON schema (or a callable returning one) drawn by django-jsonform.
    json_schemas: dict[str, Any] = {}
    # Editable on the add page, read-only afterwards (e.g. a slug id).
    readonly_on_change: tuple[str, ...] = ()
    # Read-only displays shown on the change page only (status panels, history).
    change_only_fields: tuple[str, ...] = ()

    def _services(self) -> DocumentServices:
        if self.services is None:
            raise NotImplementedError(f"{type(self).__name__} sets no `services`")
        return self.services

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> models.Model:
        return self._services().create(actor=request.user, data=data)

    def service_update(self, request: HttpRequest, obj: models.Model, data: dict[str, Any]) -> models.Model:
        return self._services().update(**{obj._meta.model_name: obj}, actor=request.user, data=data)

    def service_delete(self, request: HttpRequest, obj: models.Model) -> None:
        self._services().delete(**{obj._meta.model_name: obj}, actor=request.user)

    # --- forms

    def __init__(self, model: type[models.Model], admin_site: admin.AdminSite) -> None:
        super().__init__(model, admin_site)
        # Read-only renderings of the embedded documents, for users who may only view.
        for name in self.json_schemas:
            display = self._readable(name)
            display.short_description = model._meta.get_field(name).verbose_name
            setattr(self, f"{name}_readable", display)

    @staticmethod
    def _readable(name: str) -> Callable[[models.Model], SafeString]:
        def display(obj: models.Model) -> SafeString:
            return document_html(getattr(obj, name))

        return display

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PageChangeList

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any):
        if isinstance(db_field, models.JSONField):
            kwargs.setdefault("form_class", LimitedJSONField)
        if db_field.name in self.json_schemas:
            kwargs["widget"] = json_widget(self.json_schemas[db_field.name])
        elif db_field.name == "revision":
            # The revision the user read travels with the form: a concurrent change → refused, not overwritten.
            kwargs["widget"] = forms.HiddenInput
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            fieldsets = [
                (
                    name,
                    {
                        **options,
                        "fields": [f for f in options["fields"] if f not in (*self.change_only_fields, "revision")],
                    },
                )
                for name, options in fieldsets
            ]
            return [(name, options) for name, options in fieldsets if options["fields"]]
        if self.has_change_permission(request, obj):
            return fieldsets
        readable = {name: f"{name}_readable" for name in self.json_schemas}
        readable["revision"] = None
        return [
            (
                name,
                {
                    **options,
                    "fields": [readable.get(field, field) for field in options["fields"] if readable.get(field, field)],
                },
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, *self.change_only_fields, *self.readonly_on_change) if obj is not None else readonly

    def get_form(self, request: HttpRequest, obj: models.Model | None = None, change: bool = False, **kwargs: Any):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_opsportal_refusal", None)
        if refusal is not None:
            form_class = type(form_class.__name__, (form_class,), {"refusal": refusal})
        return form_class

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            # Show the same POST again, now with the service's reasons on the form.
            request._opsportal_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def service_data(self, form: forms.ModelForm, change: bool) -> dict[str, Any]:
        """The fields for the service (on change: the ones the user changed, and the revision read)."""
        data = {
            field: form.cleaned_data[field]
            for field in self.service_fields
            if field in form.cleaned_data and (not change or field in form.changed_data)
        }
        if change and form.cleaned_data.get("revision"):
            data["revision"] = form.cleaned_data["revision"]
        return data

    def save_model(self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool) -> None:
        data = self.service_data(form, change)
        try:
            if change:
                original = type(obj)._default_manager.get(pk=obj.pk)
                saved = self.service_update(request, original, data)
            else:
                saved = self.service_create(request, data)
        except ApplicationError as error:
            raise ServiceRefused(error) from error
        # The admin goes on with `obj` (change message, redirect): give it what was stored.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        """No many-to-many fields or inlines: everything was saved by the service."""

    # --- deletes

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        # A bulk delete would bypass each object's delete rules and miscount refusals.
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        try:
            self.service_delete(request, obj)
        except ApplicationError as error:
            raise ServiceRefused(error) from error

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRefused as refused:
            messages.error(request, refused.error.message)
            opts = self.opts
            return HttpResponseRedirect(
                reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_change",
                    args=[object_id],
                    current_app=self.admin_site.name,
                )
            )


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted here (append-only or service-owned records)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False
