"""The loader writes through the registry's rules like every other writer: a fixture row that
breaks one is refused with the file and line it came from and the rule it broke, and nothing
is written."""

import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from registry.models import Entry, Relation, Version

LOOKUP = "lsoa_msoa/geographr_lookup_lsoa21_ward24_ltla24.csv"


@pytest.mark.django_db
def test_a_parent_of_a_disallowed_type_is_refused_naming_file_line_and_rule(tmp_path):
    fixtures = tmp_path / "fixtures"
    shutil.copytree("fixtures", fixtures)
    path = fixtures / LOOKUP
    text = path.read_text(encoding="utf-8")
    row = "Middlesbrough 014A,E01012049,Ladgate,E05009861,Middlesbrough,E06000002"
    assert text.splitlines()[1] == row
    # The LSOA's 2024 district given as an MSOA: a district parent must be a district.
    path.write_text(text.replace(row, row.replace(",E06000002", ",E02002509")), encoding="utf-8")
    counts = (Entry.objects.count(), Relation.objects.count(), Version.objects.count())

    with pytest.raises(CommandError) as error:
        call_command("load_reference_data", "--fixtures", str(fixtures), stdout=StringIO())

    assert str(error.value) == (
        f"{LOOKUP}, line 2: E01012049: A district parent must be of type E06, E07, E08, E09, "
        "N09, S12, W06; E02002509 is of type E02. (rule: parents_are_of_allowed_types)"
    )
    assert (Entry.objects.count(), Relation.objects.count(), Version.objects.count()) == counts
    assert not Relation.objects.filter(
        subject__key="E01012049", hierarchy="district", object__key="E02002509"
    ).exists()
