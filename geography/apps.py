from django.apps import AppConfig


class GeographyConfig(AppConfig):
    name = "geography"
    verbose_name = "UK geography"

    def ready(self) -> None:
        # Adds the GSS and hierarchy rules to registry.validation, and tells the registry how
        # the UK registers are published (registry.profiles).
        from . import registers, rules  # noqa: F401

        registers.declare_profiles()
