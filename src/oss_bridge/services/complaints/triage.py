"""Stages b and c of complaint handling, done at intake: completeness, then class and priority.

A complaint arrives at stage a (received, receipt given). If it holds what its category needs
(``check_completeness``) it has passed stage b, and the rules of ``classify`` then give it a
priority, which completes stage c. An incomplete complaint stays at stage a until the missing
items come; it is classified all the same, so staff can chase the urgent ones first.

The rules are data (``TriageSettings``, config section ``[triage]``):

- ``completeness``: per category, what a complaint must hold. A category left out of the config,
  and each key left out of a category's table, keeps its default.
- ``rules``: keyword rules, tried in order; the first one whose category and object filters fit
  and one of whose keywords occurs in the description sets the priority. A keyword matches whole
  words, ignoring case; a ``*`` at the start or end of a word stands for any letters there
  (``*suap*`` matches "disuap" and "suapnya", ``calo`` does not match "calon").
- otherwise ``category_priority`` of the complaint's category, else ``default_priority``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oss_bridge.domain.complaint import ComplaintDraft
from oss_bridge.domain.vocabulary import ComplaintCategory, ComplaintObject, Stage

Priority = Literal["tinggi", "sedang", "rendah"]


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class CompletenessRule(_Rules):
    """What a complaint of one category must hold to pass stage b."""

    min_description_chars: int = Field(default=20, ge=1, le=4000)
    service_code_or_description_chars: int | None = Field(
        default=None,
        ge=1,
        le=4000,
        description="if set: name the service (service_code) or describe it in this many chars",
    )
    require_service_code: bool = False
    require_contact: bool = Field(
        default=True, description="an e-mail address or phone number, unless anonymous"
    )
    require_occurred_on: bool = False


class KeywordRule(_Rules):
    """Words in a description that set a complaint's priority."""

    name: str = Field(min_length=1)
    priority: Priority
    keywords: list[str] = Field(min_length=1)
    categories: list[ComplaintCategory] = Field(
        default_factory=list, description="only complaints of these categories; empty: all"
    )
    objects: list[ComplaintObject] = Field(
        default_factory=list, description="only complaints about these objects; empty: all"
    )

    @field_validator("keywords")
    @classmethod
    def _check_keywords(cls, keywords: list[str]) -> list[str]:
        for keyword in keywords:
            words = keyword.split()
            cores = [word.strip("*") for word in words]
            if not words or not all(cores) or any("*" in core for core in cores):
                raise ValueError(
                    f"keyword {keyword!r} must be one or more words, with * only at the start "
                    "or end of a word (like '*suap*' or 'uang pelicin')"
                )
        return keywords


_C = ComplaintCategory

_DEFAULT_COMPLETENESS: dict[ComplaintCategory, CompletenessRule] = {
    # Which permit is at stake is the first thing staff need; without its code the text must
    # say enough to find it.
    _C.PERIZINAN_BERUSAHA: CompletenessRule(service_code_or_description_chars=100),
    # Activities on the ground and inspections are checked against the day they happened.
    _C.KEGIATAN_USAHA: CompletenessRule(min_description_chars=30, require_occurred_on=True),
    _C.PENGAWASAN: CompletenessRule(min_description_chars=30, require_occurred_on=True),
    _C.PENYALAHGUNAAN_OSS: CompletenessRule(min_description_chars=30),
    _C.HAMBATAN_OSS: CompletenessRule(),
}


# Misuse of the OSS system against the law is a matter for the inspectors whatever its wording.
_DEFAULT_CATEGORY_PRIORITY: dict[ComplaintCategory, Priority] = {_C.PENYALAHGUNAAN_OSS: "tinggi"}


def _default_rules() -> list[KeywordRule]:
    return [
        KeywordRule(
            name="integritas",
            priority="tinggi",
            keywords=[
                "pungli",
                "pungutan liar",
                # meN- swallows the s of a stem: suap -> menyuap, sogok -> menyogok.
                "*suap*",
                "menyuap",
                "*sogok*",
                "menyogok",
                "gratifikasi",
                "pemerasan",
                "diperas",
                "memeras",
                "uang pelicin",
                "*minta* uang",
                "calo",
                "percaloan",
                "korupsi",
                "kolusi",
                "nepotisme",
            ],
        ),
        KeywordRule(
            name="keselamatan",
            priority="tinggi",
            keywords=[
                "*cemar*",
                "limbah",
                "kebakaran",
                "terbakar",
                "ledakan",
                "meledak",
                "kecelakaan",
                "keracunan",
            ],
            categories=[_C.KEGIATAN_USAHA, _C.PENGAWASAN],
        ),
        KeywordRule(
            name="pertanyaan_atau_saran",
            priority="rendah",
            keywords=[
                "ingin bertanya",
                "mau bertanya",
                "sekadar bertanya",
                "mohon informasi",
                "saran dan masukan",
                "sebagai masukan",
                "usulan",
            ],
            categories=[_C.PERIZINAN_BERUSAHA, _C.KEGIATAN_USAHA, _C.HAMBATAN_OSS],
        ),
    ]


class TriageSettings(_Rules):
    """Config section ``[triage]``: the rules of stages b and c."""

    completeness: dict[ComplaintCategory, CompletenessRule] = Field(
        default_factory=lambda: dict(_DEFAULT_COMPLETENESS)
    )
    rules: list[KeywordRule] = Field(default_factory=_default_rules)
    category_priority: dict[ComplaintCategory, Priority] = Field(
        default_factory=lambda: dict(_DEFAULT_CATEGORY_PRIORITY)
    )
    default_priority: Priority = "sedang"

    @model_validator(mode="before")
    @classmethod
    def _keep_unnamed_defaults(cls, data: Any) -> Any:
        """Merge the configured completeness tables over the defaults, key by key."""
        if not isinstance(data, dict) or not isinstance(data.get("completeness"), dict):
            return data
        merged: dict[Any, Any] = {
            category.value: rule.model_dump() for category, rule in _DEFAULT_COMPLETENESS.items()
        }
        for key, given in data["completeness"].items():
            code = key.value if isinstance(key, ComplaintCategory) else key
            if isinstance(given, CompletenessRule):
                given = given.model_dump(exclude_unset=True)
            if code in merged and isinstance(given, dict):
                merged[code] = {**merged[code], **given}
            else:
                merged[code] = given
        return {**data, "completeness": merged}


@dataclass(frozen=True, slots=True)
class Completeness:
    """Whether a complaint holds what its category needs.

    ``missing`` names the fields to complete (``description``, ``service_code``, ``reporter``,
    ``occurred_on``); ``hints`` says, in the same order, what to add.
    """

    complete: bool
    missing: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Classification:
    """The priority of a complaint; ``reasons[0]`` says what decided it."""

    priority: Priority
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class TriageResult:
    """Stage after intake: c when complete (checked and classified), else still a."""

    stage: Stage
    completeness: Completeness
    classification: Classification


def check_completeness(draft: ComplaintDraft, rules: TriageSettings) -> Completeness:
    """Check ``draft`` against the completeness rule of its category (stage b)."""
    rule = rules.completeness.get(draft.category, CompletenessRule())
    description_chars = len(_fold(draft.description))
    has_service_code = bool(draft.service_code and draft.service_code.strip())
    missing: list[str] = []
    hints: list[str] = []

    if description_chars < rule.min_description_chars:
        missing.append("description")
        hints.append(
            f"the description has {description_chars} characters; describe what happened in at "
            f"least {rule.min_description_chars}"
        )
    if not has_service_code:
        if rule.require_service_code:
            missing.append("service_code")
            hints.append("name the service the complaint is about (service_code)")
        elif (
            rule.service_code_or_description_chars is not None
            and description_chars < rule.service_code_or_description_chars
        ):
            missing.append("service_code")
            hints.append(
                "name the service the complaint is about (service_code), or describe it in at "
                f"least {rule.service_code_or_description_chars} characters"
            )
    if rule.require_contact and not draft.anonymous and not _has_contact(draft):
        missing.append("reporter")
        hints.append(
            "give an e-mail address or a phone number so the office can answer, or send the "
            "complaint anonymously"
        )
    if rule.require_occurred_on and draft.occurred_on is None:
        missing.append("occurred_on")
        hints.append("give the date on which it happened (occurred_on)")
    return Completeness(complete=not missing, missing=missing, hints=hints)


def classify(draft: ComplaintDraft, rules: TriageSettings) -> Classification:
    """Give ``draft`` a priority by the keyword rules, its category, or the default (stage c)."""
    description = _fold(draft.description)
    reasons: list[str] = []
    decided: Priority | None = None
    for rule in rules.rules:
        if rule.categories and draft.category not in rule.categories:
            continue
        if rule.objects and draft.object not in rule.objects:
            continue
        keyword = next((k for k in rule.keywords if _pattern(k).search(description)), None)
        if keyword is None:
            continue
        if decided is None:
            decided = rule.priority
            reasons.append(f"rule {rule.name!r}: {keyword!r} in the description -> {decided}")
        else:
            reasons.append(
                f"also rule {rule.name!r} ({keyword!r} -> {rule.priority}), not applied: an "
                "earlier rule decided"
            )
    if decided is not None:
        return Classification(priority=decided, reasons=reasons)
    category_priority = rules.category_priority.get(draft.category)
    if category_priority is not None:
        return Classification(
            priority=category_priority,
            reasons=[f"category {draft.category.value!r} -> {category_priority}"],
        )
    return Classification(
        priority=rules.default_priority,
        reasons=[f"no rule matched; default priority {rules.default_priority}"],
    )


def triage(draft: ComplaintDraft, rules: TriageSettings) -> TriageResult:
    """Stages b and c for a new complaint: its completeness, priority and resulting stage."""
    completeness = check_completeness(draft, rules)
    return TriageResult(
        stage=Stage.C if completeness.complete else Stage.A,
        completeness=completeness,
        classification=classify(draft, rules),
    )


def _fold(text: str) -> str:
    return " ".join(text.split())


def _has_contact(draft: ComplaintDraft) -> bool:
    reporter = draft.reporter
    return reporter is not None and bool(reporter.email or reporter.phone)


@functools.lru_cache(maxsize=1024)
def _pattern(keyword: str) -> re.Pattern[str]:
    parts = []
    for word in keyword.casefold().split():
        core = re.escape(word.strip("*"))
        parts.append(
            ("\\w*" if word.startswith("*") else "") + core + ("\\w*" if word.endswith("*") else "")
        )
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", re.IGNORECASE)
