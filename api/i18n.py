"""The language of the public pages: English (the default) or Welsh.

The language is chosen by ``?lang=cy`` / ``?lang=en`` on any page (the header's switch links
there), kept in a cookie after that, and otherwise English. The persistent URIs
(``/id/…``, ``/doc/…``) are not prefixed with a language (as ``i18n_patterns`` would do),
because DESIGN.md fixes them: the same URI names the same document in either language. The
browser's ``Accept-Language`` is not used, so that a shared cache keyed on the URL and the
cookie (``Vary: Cookie``) never hands a Welsh page to an English reader unasked."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

LANGUAGES = {code for code, _ in settings.LANGUAGES}
ASKED = {"cy": "cy", "en": "en-gb", "en-gb": "en-gb"}


def chosen_language(request) -> tuple[str, bool]:
    """The language a request is answered in, and whether ``?lang=`` asked for it."""
    asked = ASKED.get(request.GET.get("lang", "").strip().lower())
    if asked:
        return asked, True
    kept = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if kept in LANGUAGES:
        return kept, False
    return settings.LANGUAGE_CODE, False


class PageLanguage:
    """Activate the chosen language for the request; keep a ``?lang=`` choice in a cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language, asked = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
        finally:
            translation.deactivate()
        if asked:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=request.is_secure(),
            )
        # Only pages are in a language: JSON and RDF are the same in both, and so is the
        # reconciliation preview OpenRefine frames (it is not translated).
        html = response.get("Content-Type", "").startswith("text/html")
        if not html or request.path.startswith("/reconcile"):
            return response
        response.headers.setdefault("Content-Language", "cy" if language == "cy" else "en-GB")
        vary = response.headers.get("Vary", "")
        if "cookie" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Cookie" if vary else "Cookie"
        return response


def switch_url(request, language: str) -> str:
    """The current page's URL asking for ``language``, its other parameters kept."""
    query = request.GET.copy()
    query["lang"] = language
    return f"{request.path}?{query.urlencode()}"


def context(request) -> dict[str, str]:
    """Template context: the page's ``lang`` attribute and the switch to the other language."""
    welsh = translation.get_language() == "cy"
    return {
        "page_lang": "cy" if welsh else "en-GB",
        "welsh": welsh,
        "switch_url": switch_url(request, "en" if welsh else "cy"),
    }


def type_label(code: str | None, name: str | None) -> str:
    """An entity type as a page names it: the singular label of a kind readers know
    (``E06`` "Unitary authority", translated on a Welsh page), else the Register of
    Geographic Codes' own name (often plural, "Unitary Authorities"), else the code."""
    from geography.entity_types import LABELS

    if code in LABELS:
        return translation.gettext(LABELS[code])
    return translation.gettext(name) if name else code or ""


# Data the pages show in the page's language: marked here so that makemessages keeps them
# in the catalogue (the templates translate them as variables: register names, licences and
# attributions from geography.registers, hierarchies, and the entity types' labels).
DATA_MESSAGES = [
    gettext_noop("Statistical and administrative geographies"),
    gettext_noop("Entity types (Register of Geographic Codes)"),
    gettext_noop("Local authorities (councils)"),
    gettext_noop(
        "UK areas by ONS GSS code: countries, regions, counties, districts, wards, LSOAs, "
        "MSOAs, combined authorities and Westminster constituencies, live and terminated."
    ),
    gettext_noop(
        "The kinds of area that GSS codes identify, keyed by their three-character prefix "
        "(E06: unitary authorities)."
    ),
    gettext_noop(
        "UK councils past and present, keyed by their three-letter local authority code, and "
        "the areas each governs over time."
    ),
    gettext_noop("Open Government Licence v3.0"),
    gettext_noop("CC BY 4.0 (mySociety); Open Government Licence v3.0"),
    gettext_noop(
        "Source: Office for National Statistics licensed under the Open Government Licence v3.0."
    ),
    gettext_noop(
        "Source: Office for National Statistics licensed under the Open Government Licence "
        "v3.0. Contains data from mySociety (CC BY 4.0) and the House of Commons Library "
        "(Open Parliament Licence v3.0)."
    ),
    gettext_noop(
        "UK Local Authority Names and Codes, mySociety (CC BY 4.0). Source: Office for "
        "National Statistics licensed under the Open Government Licence v3.0."
    ),
    # The boundaries' attribution (geography.spatial.ATTRIBUTION), under maps and downloads.
    gettext_noop(
        "Source: Office for National Statistics licensed under the Open Government Licence "
        "v.3.0. Contains OS data © Crown copyright and database right 2025."
    ),
    # Boundary layers (geography.spatial.LAYER_NAMES), on the downloads page.
    gettext_noop("Metropolitan county"),
    gettext_noop("Local authority district"),
    gettext_noop("Ward or electoral division"),
    gettext_noop("Westminster constituency"),
    # Hierarchies (geography.hierarchies.hierarchy_label)
    gettext_noop("District"),
    gettext_noop("County"),
    gettext_noop("Region"),
    gettext_noop("Country"),
    gettext_noop("Union"),
    gettext_noop("Combined authority"),
    gettext_noop("MSOA"),
    gettext_noop("Intermediate zone"),
    gettext_noop("Super data zone"),
    gettext_noop("ICB"),
    gettext_noop("NHS region"),
    # Entity types (geography.entity_types.LABELS)
    gettext_noop("Built-up area"),
    gettext_noop("Civil parish"),
    gettext_noop("Community"),
    gettext_noop("Constituency"),
    gettext_noop("County electoral division"),
    gettext_noop("Data zone"),
    gettext_noop("Greater London Authority"),
    gettext_noop("Integrated care board"),
    gettext_noop("LSOA"),
    gettext_noop("London borough"),
    gettext_noop("Metropolitan county"),
    gettext_noop("Metropolitan district"),
    gettext_noop("National park"),
    gettext_noop("Non-metropolitan district"),
    gettext_noop("Northern Irish district"),
    gettext_noop("Police force area"),
    gettext_noop("Scottish council area"),
    gettext_noop("Sub-ICB location"),
    gettext_noop("Travel to work area"),
    gettext_noop("Unitary authority"),
    gettext_noop("Ward"),
    gettext_noop("Welsh principal area"),
    gettext_noop("Workplace zone"),
]


# The Register of Geographic Codes' names of the entity types that have no singular label in
# geography.entity_types.LABELS, as the fixtures load them (ONS's own, often plural, names):
# marked so that a Welsh page names every entity type in Welsh (api.i18n.type_label).
ENTITY_TYPE_NAMES = [
    gettext_noop("1961 Census Counties"),
    gettext_noop("1961 Census Districts"),
    gettext_noop("1961 Census Parishes"),
    gettext_noop("1961 Census Wards"),
    gettext_noop("Agricultural Regions"),
    gettext_noop("Agricultural Small Areas"),
    gettext_noop("British Crown Dependencies"),
    gettext_noop("British Crown Dependency"),
    gettext_noop("Broad Rental Market Areas"),
    gettext_noop("Built Up Area sub divisions"),
    gettext_noop("Built Up Areas"),
    gettext_noop("Built-up Area sub-divisions"),
    gettext_noop("Built-up Areas"),
    gettext_noop("Cancer Alliances"),
    gettext_noop("Cancer Networks"),
    gettext_noop("Cancer Registries"),
    gettext_noop("Care Trusts"),
    gettext_noop("Census Detailed Characteristics"),
    gettext_noop("Census Local Characteristics"),
    gettext_noop("Census Merged Counties"),
    gettext_noop("Census Merged Local Authority Districts"),
    gettext_noop("Census Merged Wards"),
    gettext_noop("City Regions"),
    gettext_noop("Civil Parish"),
    gettext_noop("Communities First Areas"),
    gettext_noop("Community Health Partnerships"),
    gettext_noop("Community Health Partnerships sub-areas"),
    gettext_noop("Community Justice Authorities"),
    gettext_noop("Community Safety Partnerships"),
    gettext_noop("Department for Children, Education, Lifelong Learning and Skills, WG"),
    gettext_noop("Development Corporations"),
    gettext_noop("District Electoral Areas"),
    gettext_noop("England and Wales"),
    gettext_noop("Enterprise Regions"),
    gettext_noop("Enterprise Zones"),
    gettext_noop("European Electoral Regions"),
    gettext_noop("Fire and Rescue Authorities"),
    gettext_noop("Footprint Regions for Public Service Collaboration"),
    gettext_noop("Great Britain"),
    gettext_noop("Health Board areas"),
    gettext_noop("Highlands and Islands Enterprise"),
    gettext_noop("ISD Health Board of Treatment"),
    gettext_noop("Inner and Outer London"),
    gettext_noop("Integrated Care Systems"),
    gettext_noop("Integration Authorities"),
    gettext_noop("Island Groups"),
    gettext_noop("LEP - non overlapping part"),
    gettext_noop("LEP - overlapping part"),
    gettext_noop("Local Administrative Units 1"),
    gettext_noop("Local Administrative Units 2"),
    gettext_noop("Local Enterprise Partnerships"),
    gettext_noop("Local Health Boards"),
    gettext_noop("Local Learning and Skills Council areas"),
    gettext_noop("Local Planning Authorities"),
    gettext_noop("Local Resilience Forums"),
    gettext_noop("Localities"),
    gettext_noop("London Assembly Constituencies"),
    gettext_noop("Major Towns and Cities"),
    gettext_noop("NHS England (Region, Local Office)"),
    gettext_noop("National Assembly Economic Regions"),
    gettext_noop("National Assembly for Wales Constituencies"),
    gettext_noop("National Assembly for Wales Electoral Regions"),
    gettext_noop("National Cancer Vanguards"),
    gettext_noop("New Deal for Communities"),
    gettext_noop("Non-Civil Parished Areas"),
    gettext_noop("Non-Communities First Areas"),
    gettext_noop("Non-National Park Area"),
    gettext_noop("Non-Strategic Regeneration Area"),
    gettext_noop("Northern Ireland Fire and Rescue Service"),
    gettext_noop("Northern Ireland Fire and Rescue Service Areas"),
    gettext_noop("Northern Ireland Fire and Rescue Service Districts"),
    gettext_noop("Output Areas"),
    gettext_noop("Pan Strategic Health Authorities"),
    gettext_noop("Police Force Districts"),
    gettext_noop("Primary Care Trusts"),
    gettext_noop("Primary Healthcare Directorate"),
    gettext_noop("Primary Urban Areas"),
    gettext_noop("Public Health England Centres"),
    gettext_noop("Public Health England Regions"),
    gettext_noop("Regeneration Outcome Agreement Areas - Scotland"),
    gettext_noop("Regeneration Outcome Areas - Community Planning Partnerships"),
    gettext_noop("Regeneration Outcome Areas - Local Areas"),
    gettext_noop("Regional Transport Partnerships"),
    gettext_noop("Registration Districts"),
    gettext_noop("Registration Sub-district"),
    gettext_noop("Scottish Fire and Rescue Local Senior Officer Areas"),
    gettext_noop("Scottish Fire and Rescue Service"),
    gettext_noop("Scottish Fire and Rescue Service Delivery Areas"),
    gettext_noop("Scottish Local Resilience Partnerships"),
    gettext_noop("Scottish Marine Regions"),
    gettext_noop("Scottish Parliamentary Constituencies"),
    gettext_noop("Scottish Parliamentary Regions"),
    gettext_noop("Scottish Police Divisions"),
    gettext_noop("Scottish Regional Resilience Partnerships"),
    gettext_noop("Settlement 2015"),
    gettext_noop("Settlements"),
    gettext_noop("Small Areas"),
    gettext_noop("Spatial Plan Areas"),
    gettext_noop("Spatial Plan Sub-areas"),
    gettext_noop("Strategic Clinical Networks"),
    gettext_noop("Strategic Development Plan Areas"),
    gettext_noop("Strategic Health Authorities"),
    gettext_noop("Strategic Regeneration Areas"),
    gettext_noop("Strategic Regeneration Sub-areas"),
    gettext_noop("Super Output Areas, Upper Layer"),
    gettext_noop("Transport Consortia Areas"),
    gettext_noop("Travel to Work Areas"),
    gettext_noop("United Kingdom"),
    gettext_noop("Urban Regeneration Companies"),
    gettext_noop("Waste Authorities"),
]
