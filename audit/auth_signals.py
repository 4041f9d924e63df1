"""The audit trail of Django's own auth models (issue #10): users, groups, group membership,
permissions and passwords.

Django's admin writes these models itself (and so do `createsuperuser`, `changepassword` and the
shell), never through our services, so here, and only here, signals record the audit events:

- `post_save` / `post_delete` of users and groups: `user.created|updated|deleted`,
  `user.password_changed`, `group.created|updated|deleted`. An update records the fields that
  changed (`pre_save` reads the stored row); a password change records that it changed, never a hash.
- `m2m_changed` of a user's groups and permissions and of a group's permissions:
  `user.groups_changed`, `user.permissions_changed`, `group.permissions_changed`, with the names
  added and removed. A change made from the other side (`group.user_set.add(…)`) is recorded on
  each user it touches, so a user's history holds every group they joined or left.

The actor is whoever is signed in on the current request (`RequestContext.username`); empty in a
management command. Left out: `last_login` updates (a login changes no privilege), fixture loads
(`raw`) and the role groups' own provisioning after migrate/flush (`opsportal.roles`). Each event
joins the unit of work of the write when there is one (the backoffice runs every auth write in one,
`audit.admin`), else it is a unit of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from audit.actions import AuditAction
from audit.services import audit_record, field_changes
from opsportal.middleware import current_request_context
from opsportal.roles import provisioning_roles

A = AuditAction

# The `object_type`s of these events.
OBJECT_TYPES = ("user", "group")
USER_FIELDS = ("username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser")
GROUP_FIELDS = ("name",)
_BEFORE = "_opsportal_audit_before"
_CLEARED = "_opsportal_audit_cleared"


def _kind(model: type[Model]) -> tuple[str, tuple[str, ...]]:
    """(object type, recorded fields) of an audited model."""
    return ("group", GROUP_FIELDS) if issubclass(model, Group) else ("user", USER_FIELDS)


def _label(obj: Model) -> str:
    return obj.name if isinstance(obj, Group) else obj.get_username()


def _record(action: AuditAction, obj: Model, changes: dict[str, Any]) -> None:
    object_type, _ = _kind(type(obj))
    audit_record(
        actor=current_request_context().username,
        action=action,
        object_type=object_type,
        object_id=str(obj.pk),
        changes={object_type: _label(obj), **changes},
    )


def _ignored(raw: bool = False, update_fields: Iterable[str] | None = None) -> bool:
    return raw or provisioning_roles() or (update_fields is not None and set(update_fields) <= {"last_login"})


def _read_before(sender: type[Model], instance: Model, raw: bool = False, update_fields=None, **kwargs: Any) -> None:
    """`pre_save`: the stored values of the recorded fields (and the password hash, only to compare)."""
    before = None
    if not _ignored(raw, update_fields) and not instance._state.adding and instance.pk is not None:
        _, fields = _kind(sender)
        extra = ("password",) if sender is get_user_model() else ()
        before = sender._default_manager.filter(pk=instance.pk).values(*fields, *extra).first()
    setattr(instance, _BEFORE, before)


def _saved(sender: type[Model], instance: Model, created: bool, raw: bool = False, update_fields=None, **kwargs):
    before = instance.__dict__.pop(_BEFORE, None)
    if _ignored(raw, update_fields):
        return
    object_type, fields = _kind(sender)
    now = {field: getattr(instance, field) for field in fields}
    is_user = sender is get_user_model()
    if created or before is None:
        changes = {field: [None, value] for field, value in now.items() if value != ""}
        if is_user and instance.has_usable_password():
            changes["password"] = "set"  # noqa: S105 - that it was set, never what
        _record(A(f"{object_type}.created"), instance, changes)
        return
    changes = field_changes({field: before.get(field) for field in fields}, now)
    if changes:
        _record(A(f"{object_type}.updated"), instance, changes)
    if is_user and before.get("password") != instance.password:
        _record(A.USER_PASSWORD_CHANGED, instance, {"password": "changed"})


def _deleted(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if provisioning_roles():
        return
    object_type, fields = _kind(sender)
    values = {field: getattr(instance, field) for field in fields}
    _record(
        A(f"{object_type}.deleted"), instance, {field: [value, None] for field, value in values.items() if value != ""}
    )


# --------------------------------------------------------------------------- many-to-many


def _relations() -> dict[type[Model], tuple[str, str, AuditAction, str]]:
    """through model → (owner's field, target's field, action, key in `changes`). The owner (a user, or
    a group for its permissions) is where the change is recorded, whichever side it was made from."""
    user_model = get_user_model()
    return {
        user_model.groups.through: ("user", "group", A.USER_GROUPS_CHANGED, "groups"),
        user_model.user_permissions.through: ("user", "permission", A.USER_PERMISSIONS_CHANGED, "permissions"),
        Group.permissions.through: ("group", "permission", A.GROUP_PERMISSIONS_CHANGED, "permissions"),
    }


def _target_labels(model: type[Model], pks: Iterable[Any]) -> list[str]:
    pks = list(pks)
    if not pks:
        return []
    if issubclass(model, Permission):
        rows = model.objects.filter(pk__in=pks).values_list("content_type__app_label", "codename")
        return sorted(f"{app_label}.{codename}" for app_label, codename in rows)
    if issubclass(model, Group):
        return sorted(model.objects.filter(pk__in=pks).values_list("name", flat=True))
    return sorted(obj.get_username() for obj in model.objects.filter(pk__in=pks))


def _links(through: type[Model], owner_field: str, target_field: str, **match: Any) -> dict[Any, set[Any]]:
    """owner pk → target pks of the through rows matching `match` (e.g. `user_id=…`)."""
    links: dict[Any, set[Any]] = {}
    for owner, target in through.objects.filter(**match).values_list(f"{owner_field}_id", f"{target_field}_id"):
        links.setdefault(owner, set()).add(target)
    return links


def _m2m_changed(sender: type[Model], instance: Model, action: str, reverse: bool, model, pk_set, **kwargs) -> None:
    relation = _relations().get(sender)
    if relation is None or provisioning_roles():
        return
    owner_field, target_field, audit_action, key = relation
    side = target_field if reverse else owner_field
    if action == "pre_clear":
        # `post_clear` does not say what was cleared: read it now.
        setattr(instance, _CLEARED, _links(sender, owner_field, target_field, **{f"{side}_id": instance.pk}))
        return
    if action == "post_clear":
        links = instance.__dict__.pop(_CLEARED, {})
        verb = "removed"
    elif action in ("post_add", "post_remove") and pk_set:
        links = {pk: {instance.pk} for pk in pk_set} if reverse else {instance.pk: set(pk_set)}
        verb = "added" if action == "post_add" else "removed"
    else:
        return
    owner_model = sender._meta.get_field(owner_field).related_model
    target_model = sender._meta.get_field(target_field).related_model
    owners = {owner.pk: owner for owner in ([instance] if not reverse else owner_model.objects.filter(pk__in=links))}
    for owner_pk, targets in links.items():
        if owner_pk in owners and targets:
            _record(audit_action, owners[owner_pk], {key: {verb: _target_labels(target_model, targets)}})


def connect() -> None:
    """Connect the receivers (`AuditConfig.ready`)."""
    for model in (get_user_model(), Group):
        uid = f"audit.auth_signals.{model._meta.label_lower}"
        pre_save.connect(_read_before, sender=model, dispatch_uid=f"{uid}.pre_save")
        post_save.connect(_saved, sender=model, dispatch_uid=f"{uid}.post_save")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"{uid}.post_delete")
    for through in _relations():
        m2m_changed.connect(
            _m2m_changed, sender=through, dispatch_uid=f"audit.auth_signals.{through._meta.label_lower}"
        )
