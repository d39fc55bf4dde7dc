"""Boundaries: the shape of an area as one vintage of ONS's generalised boundaries drew it.

A :class:`Boundary` belongs to an entry (an area of ``statistical-geography``) and a
*vintage* (``2025``, ``2010-set``, ``2014-as-at``), and stands for the valid-time range
``valid_from``..``valid_to`` (inclusive; ``valid_to`` None while it still holds): from the
vintage's date until the day before the next vintage of the same code, or the entry's end
(``geography.boundaries`` works the ranges out, with ``registry.validtime``). It is keyed by
(entry, vintage), never by code alone: five Scottish constituency codes are in both the 2010
and the 2024 sets, and a district's shape changes between vintages under one code.

The shape is stored as WKB in EPSG:4326 (longitude, latitude), repaired where the source's
rounding left it invalid; ``area`` is its area in square metres computed in British National
Grid (EPSG:27700) from the *generalised* shape (``generalisation``: ONS's BUC, BSC or BGC), not
the area in law. ``centroid`` may lie outside the shape; ``label`` (shapely's
``representative_point``) always lies inside it. Each row names the import run that last wrote
it and its source file, as entries' versions do.
"""

from __future__ import annotations

from django.db import models

from registry.models import Entry, ImportRun


class BoundaryQuerySet(models.QuerySet):
    def of_vintage(self, layer: str, vintage: str) -> BoundaryQuerySet:
        """The boundaries one vintage of one layer drew (``lad`` ``2025``): what a boundary
        download holds."""
        return self.filter(layer=layer, vintage=vintage)

    def vintages(self) -> list[dict]:
        """Each (layer, vintage) held, in layer then vintage order, with its generalisation,
        how many boundaries it has and the first and last days they stand for (``last``
        None while one still holds)."""
        rows = (
            self.order_by()
            .values("layer", "vintage", "generalisation")
            .annotate(
                count=models.Count("id"),
                first=models.Min("valid_from"),
                last=models.Max("valid_to"),
                open=models.Count("id", filter=models.Q(valid_to__isnull=True)),
            )
        )
        found = [
            {
                "layer": r["layer"],
                "vintage": r["vintage"],
                "generalisation": r["generalisation"],
                "count": r["count"],
                "first": r["first"],
                "last": None if r["open"] else r["last"],
            }
            for r in rows
        ]
        return sorted(found, key=lambda r: (r["layer"], r["vintage"]))


class Boundary(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="boundaries")
    layer = models.SlugField(max_length=32, help_text="ward, lad, westminster-constituency, …")
    vintage = models.CharField(max_length=16)
    generalisation = models.CharField(max_length=8, help_text="ONS's BUC, BSC or BGC")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    area = models.FloatField(help_text="square metres, of the generalised shape, in EPSG:27700")
    centroid_lon = models.FloatField()
    centroid_lat = models.FloatField()
    label_lon = models.FloatField()
    label_lat = models.FloatField()
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    geometry = models.BinaryField(help_text="WKB, EPSG:4326")
    repaired = models.BooleanField(default=False, help_text="made valid on load")
    digest = models.CharField(max_length=40)
    source = models.CharField(max_length=200)
    import_run = models.ForeignKey(ImportRun, on_delete=models.PROTECT, related_name="+")

    objects = BoundaryQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "vintage"], name="boundary_entry_vintage"),
        ]
        indexes = [models.Index(fields=["layer", "valid_from"], name="boundary_layer_from")]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.layer} {self.vintage}"
