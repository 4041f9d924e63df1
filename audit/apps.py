from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import auth_signals

        # Django's admin writes users and groups itself: signals put those changes on the trail (issue #10).
        auth_signals.connect()
