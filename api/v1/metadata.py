"""What an OPTIONS request to the API answers: DRF's description of the view, with the
fields of each write it accepts when the view has a serializer to describe them. Views that
parse their own body (bulk points) have none: they answer without ``actions`` rather than
DRF's assertion error, a 500 Schemathesis found."""

from rest_framework.metadata import SimpleMetadata


class RegistryMetadata(SimpleMetadata):
    def determine_actions(self, request, view):
        if getattr(view, "serializer_class", None) is None and not _overrides_serializer(view):
            return {}
        return super().determine_actions(request, view)


def _overrides_serializer(view) -> bool:
    # Here, not at the top: DRF imports this module while rest_framework.generics loads.
    from rest_framework.generics import GenericAPIView

    get = getattr(type(view), "get_serializer_class", None)
    return get is not None and get is not GenericAPIView.get_serializer_class
