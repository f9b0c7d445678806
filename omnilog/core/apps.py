from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "omnilog.core"
    label = "core"
    verbose_name = "Omnilog core"
