"""Approval policies replace `requires_approval` / `min_approvals` (issue #12); `requires_approval` stays as
a flag derived from the policy (for filters and the admin).

An environment that required approval gets the policy that means the same: one rule, `min_approvals`
(at least 1) from Release Managers, the creator excluded, no expiry. One that did not gets no rules.
Going back keeps what a policy can say in the old fields: required if any rule, the largest rule's count.
"""

from django.db import migrations, models

import environments.policies
import opsportal.schemas

RELEASE_MANAGERS = "Release Managers"


def policies_from_flags(apps, schema_editor):
    Environment = apps.get_model("environments", "Environment")
    for environment in Environment.objects.all():
        rules = []
        if environment.requires_approval:
            count = max(1, environment.min_approvals or 0)
            rules = [{"name": RELEASE_MANAGERS, "approvals": count, "group": RELEASE_MANAGERS}]
        policy = {
            "rules": rules,
            "expires_after": 0,
            "warn_before": 86400,
            "creator_can_approve": False,
            "deployer_four_eyes": False,
        }
        Environment.objects.filter(pk=environment.pk).update(approval_policy=policy, requires_approval=bool(rules))


def flags_from_policies(apps, schema_editor):
    Environment = apps.get_model("environments", "Environment")
    for environment in Environment.objects.all():
        rules = (environment.approval_policy or {}).get("rules") or []
        Environment.objects.filter(pk=environment.pk).update(
            requires_approval=bool(rules), min_approvals=max((rule.get("approvals", 1) for rule in rules), default=0)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("environments", "0005_input_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="environment",
            name="approval_policy",
            field=models.JSONField(
                blank=True,
                default=environments.policies.empty_policy,
                validators=[opsportal.schemas.JSONSchemaValidator("environments.schemas.APPROVAL_POLICY", "approval_policy")],
            ),
        ),
        migrations.RunPython(policies_from_flags, flags_from_policies),
        migrations.RemoveField(model_name="environment", name="min_approvals"),
        migrations.AlterField(
            model_name="environment",
            name="requires_approval",
            field=models.BooleanField(
                default=False, editable=False, help_text="Derived: whether the approval policy has rules."
            ),
        ),
    ]
