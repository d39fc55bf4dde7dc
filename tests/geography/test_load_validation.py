"""The loader writes through the registry's rules like every other writer: a fixture row that
breaks one is refused with the file and line it came from and the rule it broke, and nothing
is written."""

import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from registry.models import Entry, Relation, Version

LOOKUP = "lsoa_msoa/geographr_lookup_lsoa11_msoa11.csv"


@pytest.mark.django_db
def test_a_parent_of_a_disallowed_type_is_refused_naming_file_line_and_rule(tmp_path):
    fixtures = tmp_path / "fixtures"
    shutil.copytree("fixtures", fixtures)
    path = fixtures / LOOKUP
    text = path.read_text(encoding="utf-8")
    row = "Hartlepool 006B,E01011966,Hartlepool 006,E02002488"
    assert text.splitlines()[1] == row
    # The LSOA's MSOA given as a unitary authority: an MSOA parent must be an MSOA.
    path.write_text(text.replace(row, row.replace("E02002488", "E06000001")), encoding="utf-8")
    counts = (Entry.objects.count(), Relation.objects.count(), Version.objects.count())

    with pytest.raises(CommandError) as error:
        call_command("load_reference_data", "--fixtures", str(fixtures), stdout=StringIO())

    assert str(error.value) == (
        f"{LOOKUP}, line 2: E01011966: A msoa parent must be of type E02, W02; E06000001 is "
        "of type E06. (rule: parents_are_of_allowed_types)"
    )
    assert (Entry.objects.count(), Relation.objects.count(), Version.objects.count()) == counts
    assert Relation.objects.filter(subject__key="E01011966", object__key="E02002488").exists()
