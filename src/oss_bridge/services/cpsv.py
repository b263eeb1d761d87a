"""Export of the catalogue as CPSV-AP 3.2.0 JSON-LD (the EU Core Public Service Vocabulary).

Pure: standards in, one JSON-LD document (a dict) out. The document uses compact IRIs under an
inline ``@context`` of prefixes, so it needs no network to be read, and every node sits flat in
``@graph`` and is linked by ``@id``, as in the official example.

How a service standard maps onto CPSV-AP (property names as in the official SHACL shapes):

=======================  =======================================================================
service standard         CPSV-AP
=======================  =======================================================================
code                     ``cpsv:PublicService`` ``dct:identifier``; IRI ``{base}/public-service/{code}``
name                     ``dct:title`` (language ``id``)
procedure, time          ``dct:description``: the numbered procedure and the completion time in
                         words (the profile has no procedure property, and requires a description)
agency                   ``m8g:hasCompetentAuthority`` -> one ``m8g:PublicOrganisation`` for the
                         export, from ``authority_name``/``authority_id``, with ``skos:prefLabel``
                         and ``dct:spatial`` (Indonesia, and the region when given)
requirements             ``m8g:holdsRequirement`` -> ``m8g:Requirement`` (identifier, title)
fee                      ``m8g:hasCost`` -> ``m8g:Cost``: ``m8g:hasValue`` (xsd:double, the exact
                         decimal text), ``m8g:currency`` = the EU authority table's ``IDR``,
                         ``dct:description`` = the fee note ("Tidak dipungut biaya" for no fee)
products                 ``cpsv:produces`` -> ``m8g:Output`` (identifier, title)
completion_time          ``m8g:processingTime`` as ``xsd:duration`` ``P{n}D``
complaint contact        ``m8g:contactPoint`` -> ``m8g:ContactPoint`` with ``m8g:telephone`` and
                         ``m8g:contactPage`` (the website, a ``foaf:Document``)
sk_number, legal_basis   ``m8g:hasLegalResource`` -> ``eli:LegalResource`` with ``dct:title``
status inactive          ``adms:status`` = ADMS ``Withdrawn``
=======================  =======================================================================

Working days: ``xsd:duration`` has no notion of working days, so ``5 working days`` is exported
as ``P5D`` (the count) and the description states the unit ("Waktu penyelesaian: 5 hari kerja").
A consumer that reads only the duration sees the lower bound of the calendar time.

Nodes that the shapes check by class (currency, language, locations, contact page) carry their
``@type`` in the document, because a SHACL validator sees only the data it is given. The CPSV-AP
3.2.0 ContactPoint has no address property, so the contact address is not exported; the
service standard JSON export keeps it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

from oss_bridge.domain.service_standard import ServiceStandard

__all__ = ["CONTEXT", "CURRENCY_IDR", "LANGUAGE_IND", "processing_time", "to_cpsv_jsonld"]

CONTEXT: dict[str, str] = {
    "adms": "http://www.w3.org/ns/adms#",
    "cpsv": "http://purl.org/vocab/cpsv#",
    "dct": "http://purl.org/dc/terms/",
    "eli": "http://data.europa.eu/eli/ontology#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "locn": "http://www.w3.org/ns/locn#",
    "m8g": "http://data.europa.eu/m8g/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

# EU Publications Office authority tables.
CURRENCY_IDR = "http://publications.europa.eu/resource/authority/currency/IDR"
LANGUAGE_IND = "http://publications.europa.eu/resource/authority/language/IND"
COUNTRY_IDN = "http://publications.europa.eu/resource/authority/country/IDN"
STATUS_WITHDRAWN = "http://purl.org/adms/status/Withdrawn"

LANG = "id"  # BCP 47 tag of the published texts (Bahasa Indonesia)
NO_FEE_NOTE = "Tidak dipungut biaya"


def _text(value: str) -> dict[str, str]:
    return {"@value": value, "@language": LANG}


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def processing_time(value: int) -> str:
    """The ISO-8601 / xsd:duration of a completion time of ``value`` days: ``P5D``."""
    if value < 0:
        raise ValueError(f"completion time {value!r} must not be negative")
    return f"P{value}D"


def _completion_words(standard: ServiceStandard) -> str:
    unit = "hari kerja" if standard.completion_time.unit == "working_day" else "hari"
    return f"Waktu penyelesaian: {standard.completion_time.value} {unit}."


def _description(standard: ServiceStandard) -> str:
    steps = [f"{i}. {step}" for i, step in enumerate(standard.procedure, start=1)]
    return "\n".join(["Prosedur:", *steps, _completion_words(standard)])


def _website_iri(website: str | None) -> str | None:
    """The website as an absolute http(s) IRI; pages often print it without a scheme."""
    if not website or any(ch.isspace() for ch in website.strip()):
        return None
    candidate = website.strip()
    if "://" not in candidate:
        candidate = f"https://{candidate}"
    parts = urlsplit(candidate)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return candidate


def _amount_lexical(amount: Decimal) -> str:
    """The fee as an xsd:double lexical form keeping its exact decimal text (``5000.00``)."""
    return format(abs(amount), "f")


def _check_base_uri(base_uri: str) -> str:
    parts = urlsplit(base_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"base_uri {base_uri!r} must be an absolute http(s) URI such as "
            "https://dpmptsp.pelalawankab.go.id/katalog"
        )
    return base_uri.rstrip("/")


def to_cpsv_jsonld(
    standards: Iterable[ServiceStandard],
    *,
    base_uri: str,
    authority_name: str,
    authority_id: str,
    region_code: str | None = None,
    region_name: str | None = None,
) -> dict[str, Any]:
    """The standards as one CPSV-AP 3.2.0 JSON-LD document (see the module docstring).

    ``base_uri`` roots the IRIs minted for every node; ``authority_name`` and ``authority_id``
    describe the competent authority of every service (usually ``region.agency`` and
    ``region.kd_daerah``); ``region_code``/``region_name`` add the region as the authority's
    location. Every standard given is exported, inactive ones marked withdrawn. Raises
    ``ValueError`` for a base URI that is not absolute http(s) or an empty authority.
    """
    base = _check_base_uri(base_uri)
    if not authority_name.strip() or not authority_id.strip():
        raise ValueError(
            f"authority_name {authority_name!r} and authority_id {authority_id!r} must not be "
            "empty; set region.agency and region.kd_daerah"
        )
    authority = f"{base}/organisation/{quote(authority_id, safe='')}"
    graph: list[dict[str, Any]] = [
        {"@id": COUNTRY_IDN, "@type": "dct:Location"},
        {"@id": LANGUAGE_IND, "@type": "dct:LinguisticSystem"},
        {"@id": CURRENCY_IDR, "@type": "skos:Concept"},
    ]
    spatial = [_ref(COUNTRY_IDN)]
    if region_code is not None:
        region = f"{base}/location/{quote(region_code, safe='')}"
        node: dict[str, Any] = {
            "@id": region,
            "@type": "dct:Location",
            "dct:identifier": region_code,
        }
        if region_name:
            node["locn:geographicName"] = _text(region_name)
        graph.append(node)
        spatial.append(_ref(region))
    graph.append(
        {
            "@id": authority,
            "@type": "m8g:PublicOrganisation",
            "dct:identifier": authority_id,
            "skos:prefLabel": _text(authority_name),
            "dct:spatial": spatial,
        }
    )
    seen = {node["@id"] for node in graph}
    for standard in standards:
        for node in _service_nodes(standard, base=base, authority=authority):
            # Shared nodes (a website, the withdrawn status) are described once.
            if node["@id"] not in seen:
                seen.add(node["@id"])
                graph.append(node)
    return {"@context": dict(CONTEXT), "@graph": graph}


def _service_nodes(standard: ServiceStandard, *, base: str, authority: str) -> list[dict[str, Any]]:
    code = standard.code
    service_iri = f"{base}/public-service/{quote(code, safe='')}"
    nodes: list[dict[str, Any]] = []
    service: dict[str, Any] = {
        "@id": service_iri,
        "@type": "cpsv:PublicService",
        "dct:identifier": code,
        "dct:title": _text(standard.name),
        "dct:description": _text(_description(standard)),
        "dct:language": _ref(LANGUAGE_IND),
        "m8g:hasCompetentAuthority": _ref(authority),
        "m8g:processingTime": {
            "@value": processing_time(standard.completion_time.value),
            "@type": "xsd:duration",
        },
    }
    nodes.append(service)

    requirements = []
    for i, text in enumerate(standard.requirements, start=1):
        iri = f"{service_iri}/requirement/{i}"
        requirements.append(_ref(iri))
        nodes.append(
            {
                "@id": iri,
                "@type": "m8g:Requirement",
                "dct:identifier": f"{code}-requirement-{i}",
                "dct:title": _text(text),
            }
        )
    service["m8g:holdsRequirement"] = requirements

    cost_iri = f"{service_iri}/cost"
    note = standard.fee.note or (NO_FEE_NOTE if standard.fee.amount == 0 else None)
    cost: dict[str, Any] = {
        "@id": cost_iri,
        "@type": "m8g:Cost",
        "dct:identifier": f"{code}-cost",
        "m8g:hasValue": {"@value": _amount_lexical(standard.fee.amount), "@type": "xsd:double"},
        "m8g:currency": _ref(CURRENCY_IDR),
    }
    if note:
        cost["dct:description"] = _text(note)
    service["m8g:hasCost"] = _ref(cost_iri)
    nodes.append(cost)

    outputs = []
    for i, text in enumerate(standard.products, start=1):
        iri = f"{service_iri}/output/{i}"
        outputs.append(_ref(iri))
        nodes.append(
            {
                "@id": iri,
                "@type": "m8g:Output",
                "dct:identifier": f"{code}-output-{i}",
                "dct:title": _text(text),
            }
        )
    service["cpsv:produces"] = outputs

    contact = standard.complaint_handling.contact
    page = _website_iri(contact.website)
    phone = (contact.phone or "").strip()
    if page or phone:
        contact_iri = f"{service_iri}/contact-point"
        point: dict[str, Any] = {"@id": contact_iri, "@type": "m8g:ContactPoint"}
        if phone:
            point["m8g:telephone"] = phone
        if page:
            point["m8g:contactPage"] = _ref(page)
            nodes.append({"@id": page, "@type": "foaf:Document"})
        service["m8g:contactPoint"] = _ref(contact_iri)
        nodes.append(point)

    legal = [standard.sk_number] if standard.sk_number else []
    legal.extend(standard.legal_basis)
    if legal:
        refs = []
        for i, text in enumerate(legal, start=1):
            iri = f"{service_iri}/legal-resource/{i}"
            refs.append(_ref(iri))
            nodes.append({"@id": iri, "@type": "eli:LegalResource", "dct:title": _text(text)})
        service["m8g:hasLegalResource"] = refs

    if standard.status == "inactive":
        service["adms:status"] = _ref(STATUS_WITHDRAWN)
        nodes.append({"@id": STATUS_WITHDRAWN, "@type": "skos:Concept"})
    return nodes
