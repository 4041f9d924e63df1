from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Release evidence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A malformed EVIDENCE_SIGNING_KEY stops the start, not the first production deploy.
        from evidence.keys import signing_key

        signing_key()
