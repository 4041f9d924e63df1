"""The deployment summary each release embeds (issue #18), filled in from the deployments already stored."""

from django.db import migrations, models

from releases.shapes import environments_document, latest_deployments


def fill_summaries(apps, schema_editor):
    Release = apps.get_model("releases", "Release")
    Deployment = apps.get_model("releases", "Deployment")
    Environment = apps.get_model("environments", "Environment")
    current = dict(Environment.objects.values_list("id", "current_release_id"))
    fields = [field.attname for field in Deployment._meta.concrete_fields]
    rows = Deployment.objects.order_by().values(*fields).iterator(chunk_size=5000)
    for release_id, latest in latest_deployments(rows).items():
        Release.objects.filter(pk=release_id).update(environments=environments_document(release_id, latest, current))


class Migration(migrations.Migration):
    dependencies = [("releases", "0005_input_limits"), ("environments", "0002_initial")]

    operations = [
        migrations.AddField(
            model_name="release",
            name="environments",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(fill_summaries, migrations.RunPython.noop, elidable=True),
    ]
