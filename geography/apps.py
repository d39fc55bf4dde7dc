from django.apps import AppConfig


class GeographyConfig(AppConfig):
    name = "geography"
    verbose_name = "UK geography"

    def ready(self) -> None:
        # Adds the GSS and hierarchy rules to registry.validation.
        from . import rules  # noqa: F401
