"""Test helpers for the backoffice: the change page of an object, the data its form posts and the messages
shown after a request."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.contrib.messages import get_messages
from django.db import models
from django.http import HttpResponse
from django.urls import reverse


def change_url(obj: models.Model) -> str:
    """The admin change page of `obj`."""
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def change_form_data(obj: models.Model, fields: Iterable[str], json_fields: Iterable[str], **overrides: Any) -> dict:
    """What the change form of `obj` posts unchanged (plain `fields`, `json_fields` as JSON and the
    revision it was read at), with `overrides` on top."""
    data: dict[str, Any] = {name: getattr(obj, name) for name in fields}
    data.update({name: json.dumps(getattr(obj, name)) for name in json_fields})
    data["revision"] = obj.revision
    return {**data, **overrides}


def messages_of(response: HttpResponse) -> list[str]:
    """The admin messages (`messages.success`, `.error`…) added while answering the request of `response`."""
    return [str(message) for message in get_messages(response.wsgi_request)]
