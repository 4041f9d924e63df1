"""A client nobody here wrote, generated from the live schema, drives the API (issue #14).

`openapi-python-client generate --fail-on-warning` turns the schema a running gunicorn serves into
a Python package; a smoke flow then uses nothing but that package: sign in, list, create (with an
`Idempotency-Key`, replayed), submit, approve as someone else, deploy, deploy-check, metrics, and
refusals (409) parsed into their typed error models. The generator is pinned in
`requirements-dev.txt` and runs offline once installed.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

PACKAGE = "opsportal_client"
CONFIG = f"""\
project_name_override: opsportal-client
package_name_override: {PACKAGE}
post_hooks: []
"""


def generate(schema: dict[str, Any], where: Path) -> subprocess.CompletedProcess[str]:
    (where / "openapi.json").write_text(json.dumps(schema), encoding="utf-8")
    (where / "config.yaml").write_text(CONFIG, encoding="utf-8")
    command = [
        sys.executable, "-m", "openapi_python_client", "generate",
        "--path", str(where / "openapi.json"), "--config", str(where / "config.yaml"),
        "--meta", "none", "--output-path", str(where / PACKAGE), "--fail-on-warning",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def sdk(live_gunicorn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The generated package, imported: `sdk.api.<tag>.<operation id>`, `sdk.models`, `sdk.client`."""
    status, schema, _ = live_gunicorn.request("GET", "/api/schema/?format=json")
    assert status == 200
    where = tmp_path_factory.mktemp("generated")
    result = generate(schema, where)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(where))
    try:
        package = importlib.import_module(PACKAGE)
        api = SimpleNamespace(
            **{
                tag: SimpleNamespace(
                    **{
                        module.stem: importlib.import_module(f"{PACKAGE}.api.{tag}.{module.stem}")
                        for module in (where / PACKAGE / "api" / tag).glob("*.py")
                        if module.stem != "__init__"
                    }
                )
                for tag in sorted(p.name for p in (where / PACKAGE / "api").iterdir() if p.is_dir())
                if not tag.startswith("__")
            }
        )
        yield SimpleNamespace(
            package=package,
            root=where / PACKAGE,
            api=api,
            models=importlib.import_module(f"{PACKAGE}.models"),
            types=importlib.import_module(f"{PACKAGE}.types"),
        )
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def sign_in(sdk: SimpleNamespace, base_url: str, username: str) -> Any:
    """An authenticated client for `username` (the live server's users have password `pw-<name>-12345`)."""
    anonymous = sdk.package.Client(base_url=base_url, raise_on_unexpected_status=True)
    tokens = sdk.api.auth.auth_token.sync(
        client=anonymous, body=sdk.models.TokenObtainPairRequest(username=username, password=f"pw-{username}-12345")
    )
    assert isinstance(tokens, sdk.models.TokenObtainPair), tokens
    return sdk.package.AuthenticatedClient(base_url=base_url, token=tokens.access, raise_on_unexpected_status=True)


def test_the_client_has_one_module_per_resource_with_readable_names(sdk):
    modules = {tag: sorted(vars(functions)) for tag, functions in vars(sdk.api).items()}
    for tag in (
        "releases",
        "deployments",
        "environments",
        "freezes",
        "teams",
        "workflows",
        "dashboard",
        "audit",
        "auth",
    ):
        assert tag in modules, modules
    assert {"releases_deploy", "releases_deploy_check", "releases_list", "releases_create"} <= set(modules["releases"])
    assert "environments_status" in modules["environments"]
    models = {path.stem for path in (sdk.root / "models").glob("*.py")}
    for shape in (
        "feature",
        "task",
        "approval",
        "approval_policy",
        "approval_rule",
        "freeze",
        "member",
        "stage",
        "trigger",
    ):
        assert shape in models
    assert not [name for name in models if name.startswith("api_v1_")]  # no inline shapes named after URLs


def test_a_release_goes_from_creation_to_deployment_through_the_generated_client(sdk, live_gunicorn):
    m, api, Unset = sdk.models, sdk.api, sdk.types.Unset
    author = sign_in(sdk, live_gunicorn.base_url, "rm1")
    reviewer = sign_in(sdk, live_gunicorn.base_url, "rm2")

    page = api.releases.releases_list.sync(client=author, page_size=2)
    assert isinstance(page, m.PaginatedReleaseListItemList) and page.count >= 3
    assert all(isinstance(item.id, str) and not isinstance(item.team, Unset) for item in page.results)

    version = f"9.{uuid.uuid4().int % 10_000}.0"
    body = m.ReleaseRequest(
        name=f"Generated client {version}",
        version=version,
        description="Made by openapi-python-client",
        features=[
            m.FeatureRequest(name="Smoke", status=m.FeatureStatusEnum.PLANNED, tasks=[m.TaskRequest(title="Run")])
        ],
    )
    key = str(uuid.uuid4())
    created = api.releases.releases_create.sync_detailed(client=author, body=body, idempotency_key=key)
    assert created.status_code == 201, created.content
    release = created.parsed
    assert isinstance(release, m.Release) and release.status == m.ReleaseStatusEnum.DRAFT
    assert release.features[0].tasks[0].assignee == ""  # the stored default, always sent
    replayed = api.releases.releases_create.sync_detailed(client=author, body=body, idempotency_key=key)
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.parsed.id == release.id

    submitted = api.releases.releases_submit.sync(id=release.id, client=author)
    assert submitted.status == m.ReleaseStatusEnum.PENDING_APPROVAL

    approved = api.releases.releases_approve.sync(
        id=release.id, client=reviewer, body=m.ReleaseApproveInputRequest(comment="LGTM")
    )
    assert approved.status == m.ReleaseStatusEnum.APPROVED
    assert approved.approvals[0].user == "rm2" and approved.approvals[0].decision == m.ApprovalDecisionEnum.APPROVED

    # An environment of its own: other live-server tests deploy to the sample ones concurrently.
    environment = api.environments.environments_create.sync(
        client=author,
        body=m.EnvironmentRequest(name=f"Smoke {version}", tier=m.EnvironmentTierEnum.DEVELOPMENT, order=50),
    )
    assert isinstance(environment, m.Environment) and environment.health == m.EnvironmentHealthEnum.UNKNOWN
    deployment = api.releases.releases_deploy.sync(
        id=release.id, client=author, body=m.ReleaseDeployInputRequest(environment=environment.id)
    )
    assert isinstance(deployment, m.Deployment)
    assert deployment.kind == m.DeploymentKindEnum.DEPLOY and deployment.status == m.DeploymentStatusEnum.SUCCEEDED

    check = api.releases.releases_deploy_check.sync(id=release.id, client=author, environment=environment.id)
    assert isinstance(check, m.ReleaseDeployCheck) and check.allowed is False
    assert [blocker.code for blocker in check.blockers] == [m.DeployBlockerCodeEnum.ALREADY_DEPLOYED]

    metrics = api.releases.releases_metrics.sync(id=release.id, client=author)
    assert isinstance(metrics, m.ReleaseMetrics)
    assert metrics.deployments_total == 1 and metrics.deployments_by_status.succeeded == 1

    detail = api.releases.releases_retrieve.sync(id=release.id, client=author)
    summary = {entry.environment: entry for entry in detail.environments}
    assert summary[environment.id].is_current and summary[environment.id].deployment.id == deployment.id
    assert summary["production"].deployment is None  # a null reference, parsed

    # Refusals come back typed: the release's status and allowed actions as enums, the blockers as models.
    again = api.releases.releases_deploy.sync_detailed(
        id=release.id, client=author, body=m.ReleaseDeployInputRequest(environment=environment.id)
    )
    assert again.status_code == 409
    refusal = again.parsed
    assert isinstance(refusal, m.ReleaseConflictError) and refusal.code == "deploy_blocked"
    assert refusal.status == m.ReleaseStatusEnum.APPROVED
    assert m.ReleaseActionEnum.DEPLOY in refusal.allowed_actions
    assert refusal.blockers[0].code == m.DeployBlockerCodeEnum.ALREADY_DEPLOYED

    twice = api.releases.releases_approve.sync_detailed(
        id=release.id, client=reviewer, body=m.ReleaseApproveInputRequest(comment="again")
    )
    assert twice.status_code == 409 and isinstance(twice.parsed, m.ReleaseConflictError)
    assert twice.parsed.code == "invalid_transition" and twice.parsed.status == m.ReleaseStatusEnum.APPROVED


def test_a_bad_token_is_a_typed_error_with_a_sentence(sdk, live_gunicorn):
    stale = sdk.package.AuthenticatedClient(base_url=live_gunicorn.base_url, token="not-a-token")
    refused = sdk.api.releases.releases_list.sync_detailed(client=stale)
    assert refused.status_code == 401
    assert isinstance(refused.parsed, sdk.models.Error) and refused.parsed.code == "token_not_valid"
    assert refused.parsed.detail.startswith("The access token is not valid: ")


def module_list(sdk: SimpleNamespace) -> list[str]:
    """The generated package's modules (for the record: `pytest -s` prints nothing; see the issue's note)."""
    return sorted(str(path.relative_to(sdk.root)) for path in sdk.root.rglob("*.py"))


def test_every_model_module_imports(sdk):
    for path in sorted((sdk.root / "models").glob("*.py")):
        assert isinstance(importlib.import_module(f"{PACKAGE}.models.{path.stem}"), ModuleType)
    assert len(module_list(sdk)) > 100
