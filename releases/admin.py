"""Releases and deployments in the admin, where release managers work.

Every change goes through `releases.services`: saves (`release_create`/`release_update`/
`release_delete`) and the lifecycle actions (submit, approve, reject, deploy, roll back),
from the change page's buttons and from the changelist's actions alike. A refused action
comes back as an error message with the service's reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit.admin import object_link
from environments.models import Environment
from environments.selectors import environment_freeze_state
from opsportal.admin import PageChangeList, ReadOnlyModelAdmin, ServiceModelAdmin, ServiceModelForm, widget_schema
from opsportal.admin_html import admin_change_url, admin_link, badge, changes_html, deployment_cells, html_table
from opsportal.errors import ApplicationError, Conflict, PreconditionFailed
from opsportal.roles import is_release_manager
from releases import choices, schemas
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release
from releases.selectors import (
    release_current_approvals,
    release_environment_summaries,
    release_history,
    release_progress,
    release_required_approvals,
)
from releases.services import (
    release_allowed_actions,
    release_approve,
    release_create,
    release_delete,
    release_deploy,
    release_reject,
    release_rollback,
    release_submit,
    release_update,
)
from teams.models import Team

HISTORY_LIMIT = 50
DEPLOYMENTS_LIMIT = 20


def release_label(release: Release) -> str:
    return f"{release.name} ({release.version})"


def format_moment(value: Any) -> str:
    """A stored ISO string or a datetime as `YYYY-MM-DD HH:MM` UTC."""
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(value)
        value = parsed or value
    if hasattr(value, "astimezone"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value or "—")


# --------------------------------------------------------------------------- lifecycle action forms


class EnvironmentChoiceField(forms.ModelChoiceField):
    """Environments in promotion order, labelled with what stands out when deploying there."""

    def label_from_instance(self, env: Environment) -> str:
        notes = []
        if env.requires_approval:
            notes.append("approved releases only")
        frozen, until = environment_freeze_state(env)
        if frozen:
            notes.append(f"frozen until {timezone.localtime(until):%Y-%m-%d %H:%M} UTC")
        return f"{env.name} ({env.get_tier_display()})" + (f" — {', '.join(notes)}" if notes else "")


def environments() -> QuerySet[Environment]:
    return Environment.objects.order_by("order", "id")


class SubmitForm(forms.Form):
    pass


class ApproveForm(forms.Form):
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, help_text="Tell the team what to rework."
    )


class DeployForm(forms.Form):
    environment = EnvironmentChoiceField(queryset=environments(), empty_label=None)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    override_freeze = forms.BooleanField(
        required=False, label="Override a freeze window", help_text="Release managers only; needs a reason."
    )
    reason = forms.CharField(required=False, max_length=2000, label="Reason for the override")

    def __init__(self, *args: Any, may_override: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = environments()
        if not may_override:
            del self.fields["override_freeze"]
            del self.fields["reason"]


class RollbackForm(forms.Form):
    environment = EnvironmentChoiceField(queryset=environments(), empty_label=None)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args: Any, release: Release | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        queryset = environments()
        if release is not None:
            # Only where this release is the current one can it be rolled back.
            queryset = queryset.filter(current_release=release.pk)
        self.fields["environment"].queryset = queryset


@dataclass(frozen=True)
class LifecycleAction:
    name: str
    label: str
    form_class: type[forms.Form]
    # Whether only release managers see it (the services decide for good).
    managers_only: bool
    run: Callable[[Release, Any, dict[str, Any]], str]


def _submit(release: Release, user: Any, data: dict[str, Any]) -> str:
    release_submit(release=release, actor=user)
    return f"{release_label(release)} was submitted for approval."


def _approve(release: Release, user: Any, data: dict[str, Any]) -> str:
    release = release_approve(release=release, actor=user, comment=data.get("comment", ""))
    if release.status == ReleaseStatus.APPROVED:
        return f"{release_label(release)} is approved."
    count, required = len(release_current_approvals(release)), release_required_approvals()
    return f"Your approval of {release_label(release)} was recorded ({count} of {required} needed)."


def _reject(release: Release, user: Any, data: dict[str, Any]) -> str:
    release_reject(release=release, actor=user, reason=data["reason"])
    return f"{release_label(release)} was rejected."


def _deploy(release: Release, user: Any, data: dict[str, Any]) -> str:
    environment = Environment.objects.get(pk=data["environment"].pk)  # fresh: its deployment counter matters
    deployment = release_deploy(
        release=release,
        environment=environment,
        actor=user,
        notes=data.get("notes", ""),
        override_freeze=bool(data.get("override_freeze")),
        reason=data.get("reason", ""),
    )
    return f"{release_label(release)} was deployed to {environment.name} (deployment #{deployment.sequence})."


def _rollback(release: Release, user: Any, data: dict[str, Any]) -> str:
    environment = Environment.objects.get(pk=data["environment"].pk)
    deployment = release_rollback(release=release, environment=environment, actor=user, reason=data.get("reason", ""))
    restored = Release.objects.filter(pk=deployment.release_id).first()
    back_to = release_label(restored) if restored else deployment.release_id
    return f"{release_label(release)} was rolled back on {environment.name}; {back_to} is live there again."


LIFECYCLE: dict[str, LifecycleAction] = {
    action.name: action
    for action in (
        LifecycleAction("submit", "Submit for approval", SubmitForm, False, _submit),
        LifecycleAction("approve", "Approve", ApproveForm, True, _approve),
        LifecycleAction("reject", "Reject", RejectForm, True, _reject),
        LifecycleAction("deploy", "Deploy", DeployForm, False, _deploy),
        LifecycleAction("rollback", "Roll back", RollbackForm, True, _rollback),
    )
}


# --------------------------------------------------------------------------- list filters


class DeployedToFilter(admin.SimpleListFilter):
    title = "deployed to"
    parameter_name = "deployed_to"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(environments().values_list("id", "name"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Release]) -> QuerySet[Release]:
        if not self.value():
            return queryset
        # Releases that reached the environment (whether still there or rolled back since).
        release_ids = Deployment.objects.filter(
            environment=self.value(),
            kind=DeploymentKind.DEPLOY,
            status__in=(DeploymentStatus.SUCCEEDED, DeploymentStatus.ROLLED_BACK),
        ).values("release")
        return queryset.filter(pk__in=release_ids)


# --------------------------------------------------------------------------- release admin


class ReleaseAdminForm(ServiceModelForm):
    class Meta:
        model = Release
        fields = ("name", "version", "description", "team", "workflow", "target_date", "features", "revision")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


def _bulk_action(name: str, description: str, permission: str) -> Callable[..., HttpResponse | None]:
    """The changelist action `<name>_selected`: runs the release action `name` on each selected release."""

    def run(self: ReleaseAdmin, request: HttpRequest, queryset: QuerySet[Release]) -> HttpResponse | None:
        return self._run_bulk(request, queryset, name)

    run.__name__ = run.__qualname__ = f"{name}_selected"
    return admin.action(description=description, permissions=[permission])(run)


@admin.register(Release)
class ReleaseAdmin(ServiceModelAdmin):
    form = ReleaseAdminForm
    change_form_template = "admin/releases/release/change_form.html"
    list_display = (
        "name",
        "version",
        "status_badge",
        "team_display",
        "target_date",
        "approvals_display",
        "deployed_to_display",
    )
    list_filter = ("status", "team", "workflow", DeployedToFilter)
    search_fields = ("name", "version", "description", "search_text")
    date_hierarchy = "target_date"
    list_per_page = 50
    actions = ("submit_selected", "approve_selected", "reject_selected", "deploy_selected", "rollback_selected")
    fieldsets = (
        (None, {"fields": ("name", "version", "description", "team", "workflow", "target_date", "revision")}),
        ("Status", {"fields": ("status_badge", "approvals_display", "deployed_to_display")}),
        ("Features and tasks", {"fields": ("progress_display", "features")}),
        ("Approvals", {"fields": ("approvals_table",)}),
        ("Deployments", {"fields": ("environments_table", "deployments_table")}),
        ("Audit history", {"fields": ("audit_history",)}),
        ("Record", {"fields": ("id", "created_by", "created_at", "updated_at", "revision_display")}),
    )
    change_only_fields = (
        "status_badge",
        "approvals_display",
        "deployed_to_display",
        "progress_display",
        "approvals_table",
        "environments_table",
        "deployments_table",
        "audit_history",
        "id",
        "created_by",
        "created_at",
        "updated_at",
        "revision_display",
    )
    service_fields = ("name", "version", "description", "team", "workflow", "target_date", "features")
    json_schemas = {
        "features": widget_schema(
            schemas.FEATURES, choice_titles={**dict(choices.FeatureStatus.choices), **dict(choices.TaskStatus.choices)}
        )
    }

    # --- permissions: what the release's status allows (the services enforce it again)

    def has_change_permission(self, request: HttpRequest, obj: Release | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or "update" in release_allowed_actions(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Release | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or "delete" in release_allowed_actions(obj))

    def may_run(self, request: HttpRequest, action: LifecycleAction) -> bool:
        if action.managers_only:
            return is_release_manager(request.user)
        return super().has_change_permission(request)

    # --- services

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> Release:
        return release_create(actor=request.user, data=data)

    def service_update(self, request: HttpRequest, obj: Release, data: dict[str, Any]) -> Release:
        expected = data.pop("revision", None)
        try:
            return release_update(release=obj, actor=request.user, data=data, expected_revision=expected)
        except PreconditionFailed as stale:
            raise Conflict(
                f"Someone changed this release while you were editing it (it is at revision {obj.revision}, "
                f"you started from {expected}). Open it again to see their changes, then redo yours.",
                code="stale_revision",
            ) from stale

    def service_delete(self, request: HttpRequest, obj: Release) -> None:
        release_delete(release=obj, actor=request.user)

    # --- list: one query per kind of related data for the whole page

    def annotate_page(self, request: HttpRequest, releases: list[Release]) -> None:
        self._load_related(releases)

    @staticmethod
    def _load_related(releases: list[Release]) -> None:
        team_ids = {release.team_id for release in releases} - {None}
        teams = dict(Team.objects.filter(pk__in=team_ids).values_list("id", "name")) if team_ids else {}
        deployed: dict[str, list[tuple[str, str]]] = {}
        ids = [release.pk for release in releases]
        if ids:
            rows = (
                Environment.objects.filter(current_release__in=ids)
                .order_by("order", "id")
                .values_list("current_release", "id", "name")
            )
            for release_id, env_id, name in rows:
                deployed.setdefault(release_id, []).append((env_id, name))
        for release in releases:
            release.team_name = teams.get(release.team_id)
            release.deployed_to = deployed.get(release.pk, [])

    def _related(self, release: Release) -> Release:
        if not hasattr(release, "deployed_to"):
            self._load_related([release])
        return release

    @admin.display(description="Status", ordering="status")
    def status_badge(self, release: Release) -> str:
        return badge(release.status, release.get_status_display())

    @admin.display(description="Team", ordering="team")
    def team_display(self, release: Release) -> str:
        name = self._related(release).team_name
        return name or "—"

    @admin.display(description="Approvals")
    def approvals_display(self, release: Release) -> str:
        return str(len(release_current_approvals(release)))

    @admin.display(description="Deployed on")
    def deployed_to_display(self, release: Release) -> str:
        environments_ = self._related(release).deployed_to
        if not environments_:
            return "—"
        return format_html_join(
            " ",
            '<a class="op-env" href="{}">{}</a>',
            ((admin_change_url("environments.environment", env_id), name) for env_id, name in environments_),
        )

    # --- change page read-only sections

    @admin.display(description="Progress")
    def progress_display(self, release: Release) -> str:
        progress = release_progress(release)
        return format_html(
            "{} of {} features done, {} of {} tasks done",
            progress.get("features_done", 0),
            progress.get("features_total", 0),
            progress.get("tasks_done", 0),
            progress.get("tasks_total", 0),
        )

    @admin.display(description="Approvals")
    def approvals_table(self, release: Release) -> str:
        counted = {id(entry) for entry in release_current_approvals(release)}
        required = release_required_approvals()
        table = html_table(
            ("When", "Who", "Decision", "Comment", "Counts"),
            (
                (
                    format_moment(entry.get("at")),
                    entry.get("user", "—"),
                    badge(entry.get("decision", ""), str(entry.get("decision", "")).capitalize()),
                    entry.get("comment") or "—",
                    "yes" if id(entry) in counted else "no",
                )
                for entry in release.approvals or []
                if isinstance(entry, dict)
            ),
            empty="No approvals or rejections yet.",
        )
        return format_html(
            "<p>{} of {} required approvals since the last rejection.</p>{}",
            len(counted),
            required,
            table,
        )

    @admin.display(description="Environments")
    def environments_table(self, release: Release) -> str:
        def latest(deployment: Deployment | None) -> str:
            if deployment is None:
                return "never"
            return format_html(
                "{} {} {}",
                deployment.get_kind_display(),
                badge(deployment.status, deployment.get_status_display()),
                format_moment(deployment.started_at),
            )

        return html_table(
            ("Environment", "Live there", "Latest deployment of this release"),
            (
                (
                    admin_link(admin_change_url("environments.environment", row["environment"]), row["name"]),
                    badge("deployed", "live") if row["is_current"] else "—",
                    latest(row["deployment"]),
                )
                for row in release_environment_summaries(release_ids=[release.pk]).get(release.pk, [])
            ),
            empty="No environments yet.",
        )

    @admin.display(description="Deployments")
    def deployments_table(self, release: Release) -> str:
        deployments = list(
            Deployment.objects.filter(release=release.pk).order_by("-started_at", "-sequence")[:DEPLOYMENTS_LIMIT]
        )
        names = dict(Environment.objects.values_list("id", "name"))
        return html_table(
            ("When", "Environment", "Kind", "Status", "By", "Notes"),
            (
                (
                    admin_link(admin_change_url(d), format_moment(d.started_at)),
                    names.get(d.environment_id, d.environment_id),
                    *deployment_cells(d),
                )
                for d in deployments
            ),
            empty="Not deployed anywhere yet.",
        )

    @admin.display(description="Audit history")
    def audit_history(self, release: Release) -> str:
        events = list(release_history(release=release)[:HISTORY_LIMIT])
        table = html_table(
            ("When", "Who", "What", "Object", "Changes"),
            (
                (
                    format_moment(event.at),
                    event.actor or "—",
                    event.action,
                    object_link(event.object_type, event.object_id),
                    changes_html(event.changes, limit=12),
                )
                for event in events
            ),
            empty="No recorded events.",
        )
        all_url = reverse("admin:audit_auditevent_changelist") + f"?q={release.pk}"
        return format_html('{}<p><a href="{}">Search the audit trail for this release</a></p>', table, all_url)

    @admin.display(description="Revision")
    def revision_display(self, release: Release) -> int:
        return release.revision

    # --- change page buttons → lifecycle pages

    def get_urls(self) -> list:
        urls = super().get_urls()
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/lifecycle/<str:action>/",
                self.admin_site.admin_view(self.lifecycle_view),
                name="{}_{}_lifecycle".format(*info),
            ),
            *urls,
        ]

    def lifecycle_buttons(self, request: HttpRequest, release: Release) -> list[dict[str, str]]:
        allowed = release_allowed_actions(release)
        live_somewhere = Environment.objects.filter(current_release=release.pk).exists()
        buttons = []
        for action in LIFECYCLE.values():
            if action.name not in allowed or not self.may_run(request, action):
                continue
            if action.name == "rollback" and not live_somewhere:
                continue
            buttons.append(
                {
                    "name": action.name,
                    "label": action.label,
                    "url": reverse("admin:releases_release_lifecycle", args=[release.pk, action.name]),
                }
            )
        return buttons

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        release = self.get_object(request, unquote(object_id))
        if (
            request.method == "POST"
            and release is not None
            and "update" not in release_allowed_actions(release)
            and super().has_change_permission(request, release)
        ):
            # The release moved on (e.g. approved) while this form was open: say so instead of a 403 page.
            messages.error(
                request,
                f"{release_label(release)} is {release.get_status_display().lower()} now, so its details can no "
                "longer be edited; your changes were not saved.",
            )
            return HttpResponseRedirect(request.get_full_path())
        extra_context = dict(extra_context or {})
        if release is not None:
            extra_context["lifecycle_buttons"] = self.lifecycle_buttons(request, release)
            extra_context["release_locked"] = "update" not in release_allowed_actions(release)
            extra_context["release_can_reject"] = "reject" in release_allowed_actions(release)
            extra_context["release_status"] = release.get_status_display()
        return super().change_view(request, object_id, form_url, extra_context)

    def _action_form(self, request: HttpRequest, action: LifecycleAction, release: Release | None, data: Any = None):
        kwargs: dict[str, Any] = {}
        if action.form_class is DeployForm:
            kwargs["may_override"] = is_release_manager(request.user)
        if action.form_class is RollbackForm:
            kwargs["release"] = release
        return action.form_class(data, **kwargs)

    def lifecycle_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """Confirm and run one lifecycle action on one release (GET: the form; POST: run it)."""
        release = self.get_object(request, unquote(object_id))
        if release is None:
            messages.error(request, "That release no longer exists.")
            return HttpResponseRedirect(reverse("admin:releases_release_changelist"))
        change_url = reverse("admin:releases_release_change", args=[release.pk])
        lifecycle = LIFECYCLE.get(action)
        if lifecycle is None or not self.may_run(request, lifecycle):
            messages.error(request, "You may not do that here.")
            return HttpResponseRedirect(change_url)
        form = self._action_form(request, lifecycle, release, request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                messages.success(request, lifecycle.run(release, request.user, form.cleaned_data))
            except ApplicationError as error:
                messages.error(request, error.message)
            return HttpResponseRedirect(change_url)
        return self._render_action_page(request, lifecycle, form, [release], single=True)

    def _render_action_page(
        self, request: HttpRequest, action: LifecycleAction, form: forms.Form, releases: list[Release], single: bool
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{action.label}: {release_label(releases[0])}"
            if single
            else f"{action.label}: {len(releases)} releases",
            "action": action,
            "form": form,
            "releases": [
                {
                    "release": release,
                    "status": badge(release.status, release.get_status_display()),
                    "url": reverse("admin:releases_release_change", args=[release.pk]),
                }
                for release in releases
            ],
            "single": single,
            "required_approvals": release_required_approvals(),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/releases/release/lifecycle_action.html", context)

    # --- changelist actions (same services, one message per release)

    def _run_bulk(self, request: HttpRequest, queryset: QuerySet[Release], name: str) -> HttpResponse | None:
        action = LIFECYCLE[name]
        releases = list(queryset)
        needs_input = bool(action.form_class.base_fields)
        form = self._action_form(request, action, None, request.POST if "apply" in request.POST else None)
        if needs_input and not ("apply" in request.POST and form.is_valid()):
            return self._render_action_page(request, action, form, releases, single=False)
        data = form.cleaned_data if needs_input else {}
        for release in releases:
            try:
                messages.success(request, action.run(release, request.user, data))
            except ApplicationError as error:
                messages.error(request, f"{release_label(release)}: {error.message}")
        return None

    submit_selected = _bulk_action("submit", "Submit selected releases for approval", "change")
    approve_selected = _bulk_action("approve", "Approve selected releases", "release_manager")
    reject_selected = _bulk_action("reject", "Reject selected releases…", "release_manager")
    deploy_selected = _bulk_action("deploy", "Deploy selected releases to an environment…", "change")
    rollback_selected = _bulk_action("rollback", "Roll back selected releases on an environment…", "release_manager")

    def has_release_manager_permission(self, request: HttpRequest) -> bool:
        return is_release_manager(request.user)


# --------------------------------------------------------------------------- deployments (read-only)


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyModelAdmin):
    """Deployments are written by the release actions and the pipelines' status reports only."""

    list_display = (
        "started_at",
        "release_display",
        "environment_display",
        "kind",
        "status_badge",
        "sequence",
        "deployed_by",
    )
    list_filter = ("status", "kind", "environment")
    search_fields = ("=release__id", "release__version", "deployed_by", "notes")
    date_hierarchy = "started_at"
    list_per_page = 50
    fields = (
        "release_display",
        "environment",
        "kind",
        "status_badge",
        "sequence",
        "started_at",
        "finished_at",
        "deployed_by",
        "notes",
        "pipeline_url",
        "rolled_back_from",
    )
    readonly_fields = fields

    def get_actions(self, request: HttpRequest) -> dict:
        return {}

    def get_changelist(self, request: HttpRequest, **kwargs: Any):
        return PageChangeList

    def annotate_page(self, request: HttpRequest, deployments: list[Deployment]) -> None:
        ids = {d.release_id for d in deployments}
        releases = Release.objects.only("id", "name", "version").in_bulk(ids) if ids else {}
        names = dict(Environment.objects.values_list("id", "name"))
        for deployment in deployments:
            deployment.release_loaded = releases.get(deployment.release_id)
            deployment.environment_name = names.get(deployment.environment_id, deployment.environment_id)

    @admin.display(description="Release", ordering="release")
    def release_display(self, deployment: Deployment) -> str:
        release = getattr(deployment, "release_loaded", None) or deployment.release
        return admin_link(admin_change_url(release), release_label(release))

    @admin.display(description="Environment", ordering="environment")
    def environment_display(self, deployment: Deployment) -> str:
        name = getattr(deployment, "environment_name", None) or deployment.environment.name
        return admin_link(admin_change_url("environments.environment", deployment.environment_id), name)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, deployment: Deployment) -> str:
        return badge(deployment.status, deployment.get_status_display())
