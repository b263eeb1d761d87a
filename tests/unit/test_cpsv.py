"""The CPSV-AP 3.2.0 JSON-LD export, checked against the official SHACL shapes and JSON-LD context.

The official files are third-party data read from ``../shared/standards/cpsv-ap-3.2.0`` beside the
repository; they are never copied into the project.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyshacl
import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, SH, SKOS, XSD

from oss_bridge.domain.service_standard import ServiceStandard
from oss_bridge.services.cpsv import CURRENCY_IDR, processing_time, to_cpsv_jsonld
from tests.factories import AGENCY, JOB_PORTAL_CODE, JOB_PORTAL_NAME, make_standard

# rdflib's JSON-LD parser wraps its target in a ConjunctiveGraph, a class rdflib 7 itself deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

STANDARDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "standards" / "cpsv-ap-3.2.0"

CPSV = Namespace("http://purl.org/vocab/cpsv#")
M8G = Namespace("http://data.europa.eu/m8g/")
BASE_URI = "https://dpmptsp.pelalawankab.go.id/katalog"
SERVICE = URIRef(f"{BASE_URI}/public-service/{JOB_PORTAL_CODE}")


def _export(*standards: ServiceStandard, **options: Any) -> dict[str, Any]:
    return to_cpsv_jsonld(
        standards or [make_standard()],
        base_uri=BASE_URI,
        authority_name=AGENCY,
        authority_id="1405",
        **options,
    )


def _graph(document: dict[str, Any]) -> Graph:
    return Graph().parse(data=json.dumps(document), format="json-ld")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    if not STANDARDS.is_dir():
        pytest.skip(f"the official CPSV-AP 3.2.0 files are not beside the repository ({STANDARDS})")
    return Graph().parse(STANDARDS / "cpsv-ap-SHACL.ttl", format="turtle")


def _violations(document: dict[str, Any], shapes: Graph) -> str:
    """The validation report text, or an empty string when the document conforms."""
    conforms, _, text = pyshacl.validate(_graph(document), shacl_graph=shapes)
    return "" if conforms else str(text)


def test_the_job_portal_page_exports_to_a_document_the_official_shapes_accept(
    shapes: Graph,
) -> None:
    assert _violations(_export(), shapes) == ""


@pytest.mark.parametrize(
    "standard",
    [
        pytest.param(make_standard(fee={"amount": 0}), id="no fee, no note"),
        pytest.param(make_standard(fee={"amount": "125000.50", "note": "per izin"}), id="a fee"),
        pytest.param(make_standard(status="inactive"), id="withdrawn"),
        pytest.param(
            make_standard(
                completion_time={"value": 14, "unit": "working_day"},
                sk_number="SK Kepala Dinas No. 12/2023",
                legal_basis=["PP 5/2021", "Perbup Pelalawan 10/2022"],
                complaint_handling={},
            ),
            id="working days, legal basis, no contact",
        ),
        pytest.param(
            make_standard(complaint_handling={"contact": {"phone": "08117699877"}}),
            id="phone only",
        ),
    ],
)
def test_variants_of_a_standard_still_satisfy_the_official_shapes(
    standard: ServiceStandard, shapes: Graph
) -> None:
    assert _violations(_export(standard), shapes) == ""


def test_several_standards_share_one_competent_authority_and_satisfy_the_shapes(
    shapes: Graph,
) -> None:
    document = _export(
        make_standard(), make_standard(code="izin-lokasi", name="Izin Lokasi"), region_code="1405"
    )
    graph = _graph(document)

    assert _violations(document, shapes) == ""
    assert len(set(graph.subjects(RDF.type, M8G.PublicOrganisation))) == 1
    assert len(set(graph.subjects(RDF.type, CPSV.PublicService))) == 2


def _without(document: dict[str, Any], node_type: str, key: str) -> dict[str, Any]:
    graph = [
        {k: v for k, v in node.items() if not (node.get("@type") == node_type and k == key)}
        for node in document["@graph"]
    ]
    return {**document, "@graph": graph}


@pytest.mark.parametrize(
    ("node_type", "key"),
    [
        ("cpsv:PublicService", "m8g:hasCompetentAuthority"),
        ("cpsv:PublicService", "dct:description"),
        ("cpsv:PublicService", "dct:identifier"),
        ("m8g:PublicOrganisation", "dct:spatial"),
        ("m8g:PublicOrganisation", "skos:prefLabel"),
        ("m8g:Requirement", "dct:title"),
        ("m8g:Cost", "dct:identifier"),
        ("m8g:Output", "dct:title"),
        ("skos:Concept", "@type"),
    ],
)
def test_the_shapes_check_would_catch_a_missing_mandatory_property(
    node_type: str, key: str, shapes: Graph
) -> None:
    assert _violations(_without(_export(), node_type, key), shapes) != ""


def test_the_document_round_trips_through_rdflib_json_ld() -> None:
    graph = _graph(_export())
    again = Graph().parse(data=graph.serialize(format="json-ld"), format="json-ld")

    assert len(graph) > 0
    assert isomorphic(graph, again)


def test_the_service_carries_identifier_title_and_description_in_indonesian() -> None:
    graph = _graph(_export())

    assert graph.value(SERVICE, DCTERMS.identifier) == Literal(JOB_PORTAL_CODE)
    assert graph.value(SERVICE, DCTERMS.title) == Literal(JOB_PORTAL_NAME, lang="id")
    description = str(graph.value(SERVICE, DCTERMS.description))
    assert description.startswith("Prosedur:\n1. Pelaksanaan Perizinan Berusaha")


@pytest.mark.parametrize(
    ("value", "unit", "duration", "words"),
    [
        (5, "day", "P5D", "Waktu penyelesaian: 5 hari."),
        (14, "working_day", "P14D", "Waktu penyelesaian: 14 hari kerja."),
        (0, "day", "P0D", "Waktu penyelesaian: 0 hari."),
    ],
)
def test_the_processing_time_is_an_iso_8601_duration_and_the_unit_is_stated_in_words(
    value: int, unit: str, duration: str, words: str
) -> None:
    standard = make_standard(completion_time={"value": value, "unit": unit})
    graph = _graph(_export(standard))

    literal = graph.value(SERVICE, M8G.processingTime)
    assert isinstance(literal, Literal)
    assert (str(literal), literal.datatype) == (duration, XSD.duration)
    assert literal.toPython() == timedelta(days=value)
    assert str(graph.value(SERVICE, DCTERMS.description)).endswith(words)


def test_a_negative_processing_time_is_refused() -> None:
    with pytest.raises(ValueError, match="completion time -1 must not be negative"):
        processing_time(-1)


@pytest.mark.parametrize(
    ("fee", "value", "note"),
    [
        ({"amount": 0}, 0.0, "Tidak dipungut biaya"),
        ({"amount": "0.00", "note": "Gratis"}, 0.0, "Gratis"),
        ({"amount": "125000.50", "note": "per izin"}, 125000.5, "per izin"),
    ],
)
def test_the_fee_is_a_cost_with_a_double_value_in_rupiah(
    fee: dict[str, Any], value: float, note: str
) -> None:
    graph = _graph(_export(make_standard(fee=fee)))
    cost = graph.value(SERVICE, M8G.hasCost)

    amount = graph.value(cost, M8G.hasValue)
    assert isinstance(amount, Literal)
    assert amount.datatype == XSD.double
    assert amount.toPython() == value
    assert graph.value(cost, M8G.currency) == URIRef(CURRENCY_IDR)
    assert graph.value(cost, DCTERMS.description) == Literal(note, lang="id")


def test_each_requirement_and_product_is_a_node_of_its_own() -> None:
    standard = make_standard(requirements=["KTP", "NPWP"], products=["NIB", "Sertifikat Standar"])
    graph = _graph(_export(standard))

    requirements = graph.objects(SERVICE, M8G.holdsRequirement)
    outputs = graph.objects(SERVICE, CPSV.produces)
    assert sorted(str(graph.value(r, DCTERMS.title)) for r in requirements) == ["KTP", "NPWP"]
    assert sorted(str(graph.value(o, DCTERMS.title)) for o in outputs) == [
        "NIB",
        "Sertifikat Standar",
    ]


@pytest.mark.parametrize(
    ("website", "page"),
    [
        ("dpmptsp.pelalawankab.go.id", "https://dpmptsp.pelalawankab.go.id"),
        ("http://dpmptsp.pelalawankab.go.id/layanan", "http://dpmptsp.pelalawankab.go.id/layanan"),
        ("not a website", None),
        (None, None),
    ],
)
def test_the_contact_point_carries_the_phone_and_the_website_as_an_absolute_page(
    website: str | None, page: str | None
) -> None:
    contact = {"phone": "08117699877", "website": website}
    graph = _graph(_export(make_standard(complaint_handling={"contact": contact})))
    point = graph.value(SERVICE, M8G.contactPoint)

    assert graph.value(point, M8G.telephone) == Literal("08117699877")
    assert graph.value(point, M8G.contactPage) == (URIRef(page) if page else None)


def test_a_standard_without_phone_or_website_has_no_contact_point() -> None:
    graph = _graph(_export(make_standard(complaint_handling={})))

    assert graph.value(SERVICE, M8G.contactPoint) is None


def test_the_competent_authority_is_located_in_indonesia_and_the_region() -> None:
    graph = _graph(_export(region_code="1405", region_name="Kabupaten Pelalawan"))
    authority = graph.value(SERVICE, M8G.hasCompetentAuthority)

    assert graph.value(authority, SKOS.prefLabel) == Literal(AGENCY, lang="id")
    assert set(graph.objects(authority, DCTERMS.spatial)) == {
        URIRef("http://publications.europa.eu/resource/authority/country/IDN"),
        URIRef(f"{BASE_URI}/location/1405"),
    }


def test_a_withdrawn_service_is_marked_with_the_adms_status() -> None:
    graph = _graph(_export(make_standard(status="inactive")))

    assert graph.value(SERVICE, URIRef("http://www.w3.org/ns/adms#status")) == URIRef(
        "http://purl.org/adms/status/Withdrawn"
    )


def test_every_term_used_is_one_the_official_context_or_shapes_define(shapes: Graph) -> None:
    context = json.loads((STANDARDS / "cpsv-ap.jsonld").read_text(encoding="utf-8"))["@context"]
    official = {entry["@id"] if isinstance(entry, dict) else entry for entry in context.values()}
    official |= {str(path) for path in shapes.objects(None, SH.path)}
    official |= {str(cls) for cls in shapes.objects(None, SH.targetClass)}
    # The region's name uses the Core Location Vocabulary, which CPSV-AP leaves open.
    official |= {str(RDF.type), "http://www.w3.org/ns/locn#geographicName"}
    graph = _graph(
        _export(
            make_standard(status="inactive", legal_basis=["PP 5/2021"]),
            region_code="1405",
            region_name="Kabupaten Pelalawan",
        )
    )

    used = {str(p) for p in graph.predicates()} | {str(c) for c in graph.objects(None, RDF.type)}
    assert used - official == set()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_uri": "katalog"}, "base_uri 'katalog' must be an absolute http\\(s\\) URI"),
        ({"authority_name": " "}, "authority_name ' ' and authority_id '1405' must not be empty"),
        ({"authority_id": ""}, "must not be empty; set region.agency and region.kd_daerah"),
    ],
)
def test_the_export_refuses_options_it_cannot_build_iris_from(
    options: dict[str, str], message: str
) -> None:
    arguments = {"base_uri": BASE_URI, "authority_name": AGENCY, "authority_id": "1405"}
    with pytest.raises(ValueError, match=message):
        to_cpsv_jsonld([make_standard()], **{**arguments, **options})
