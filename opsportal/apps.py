"""App configs. The Mongo* configs give Django's contrib apps ObjectId primary keys on MongoDB."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.apps import AuthConfig
from django.contrib.contenttypes.apps import ContentTypesConfig

MONGO_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"


class OpsPortalConfig(AppConfig):
    name = "opsportal"
    verbose_name = "Ops Portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from opsportal import checks
        from opsportal.roles import create_role_groups

        checks.register()
        # The role groups come back after every migrate and flush (a MongoDB test run flushes between tests).
        post_migrate.connect(create_role_groups, sender=self, dispatch_uid="opsportal.roles.create_role_groups")


class MongoAdminConfig(AdminConfig):
    default_auto_field = MONGO_AUTO_FIELD


class MongoAuthConfig(AuthConfig):
    default_auto_field = MONGO_AUTO_FIELD


class MongoContentTypesConfig(ContentTypesConfig):
    default_auto_field = MONGO_AUTO_FIELD
