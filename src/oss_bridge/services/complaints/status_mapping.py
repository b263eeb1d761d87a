"""The map from the national complaint channel's statuses to the regional complaint stages.

The map lives in a TOML file (``status_pull.mapping_file``, else the packaged default, which has
the same content as ``config/status-mapping.toml``) so an office can change it without a release::

    [statuses."Dalam Proses"]
    stage = "d"          # regional stage a..g
    open311 = "open"     # Open311 status shown to portals: open | closed
    final = false        # true: the complaint is never pulled again

Loading checks that every status in ``KNOWN_STATUSES`` is mapped, so the status puller refuses
to start rather than meet a known status it cannot place. A status the channel invents later
(not in the file) is still handled at run time: the stage is kept and the decision is flagged
``unmapped``, so one surprise does not stop the pull of every other complaint.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from oss_bridge.domain.vocabulary import Stage
from oss_bridge.errors import ConfigError

Open311Status = Literal["open", "closed"]

# The statuses SP4N-LAPOR! is known to report (DESIGN.md section 3.2), as the channel spells them.
KNOWN_STATUSES: tuple[str, ...] = (
    "Belum Terverifikasi",
    "Terverifikasi",
    "Dalam Proses",
    "Selesai",
    "Diarsipkan",
    "Ditolak",
)

PACKAGED_MAPPING = "status-mapping.toml"
_RULE_KEYS = ("stage", "open311", "final")
_EXAMPLE = "config/status-mapping.toml"


def fold_status(name: str) -> str:
    """The form in which status names are compared: white space folded, case ignored."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, slots=True)
class StatusRule:
    """Where one national status puts a complaint."""

    status: str
    stage: Stage
    open311: Open311Status
    final: bool


@dataclass(frozen=True, slots=True)
class StageDecision:
    """What one observed national status does to a complaint.

    ``stage`` is the stage to store (never lower than the current one); ``moved`` tells whether
    it differs from the current stage. ``external_status`` is the raw status as the channel sent
    it, to be stored beside the stage whatever the mapping said. ``held_back`` is true when the
    mapping named a lower stage than the complaint already has. ``unmapped`` is true when the
    status is in no rule; then the stage is kept, ``open311`` is "open" and ``final`` is false,
    so the complaint goes on being pulled until someone maps the status.
    """

    stage: Stage
    moved: bool
    open311: Open311Status
    final: bool
    external_status: str
    mapped_stage: Stage | None
    held_back: bool
    unmapped: bool


class StatusMapping:
    """A validated status map; build it with ``load_status_mapping`` or ``parse_status_mapping``."""

    def __init__(self, rules: Mapping[str, StatusRule], *, source: str) -> None:
        self._rules = {fold_status(name): rule for name, rule in rules.items()}
        self.source = source

    @property
    def rules(self) -> tuple[StatusRule, ...]:
        """The rules in the order of the file."""
        return tuple(self._rules.values())

    def rule_for(self, external_status: str) -> StatusRule | None:
        """The rule for ``external_status`` (white space folded, case ignored), if any."""
        return self._rules.get(fold_status(external_status))

    def apply(self, current_stage: Stage, external_status: str) -> StageDecision:
        """Decide the stage after the channel reported ``external_status``.

        Never moves a complaint backwards; never raises for an unknown status (see
        ``StageDecision.unmapped``).
        """
        rule = self.rule_for(external_status)
        if rule is None:
            return StageDecision(
                stage=current_stage,
                moved=False,
                open311="open",
                final=False,
                external_status=external_status,
                mapped_stage=None,
                held_back=False,
                unmapped=True,
            )
        held_back = rule.stage.rank < current_stage.rank
        stage = current_stage if held_back else rule.stage
        return StageDecision(
            stage=stage,
            moved=stage is not current_stage,
            # The channel decides whether the case is open: a stage the office reached on its
            # own (say g, monitoring) does not close a complaint the channel still works on.
            open311=rule.open311,
            final=rule.final,
            external_status=external_status,
            mapped_stage=rule.stage,
            held_back=held_back,
            unmapped=False,
        )


def load_status_mapping(path: Path | None = None) -> StatusMapping:
    """Read and validate the status map at ``path``, or the packaged default when ``None``.

    Raises ``ConfigError`` naming the file, the status and what to change.
    """
    if path is None:
        text = resources.files("oss_bridge").joinpath("data", PACKAGED_MAPPING).read_text("utf-8")
        return parse_status_mapping(text, source=f"the packaged default {PACKAGED_MAPPING}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"status mapping {str(path)!r} does not exist; copy {_EXAMPLE} there, or unset "
            "status_pull.mapping_file to use the packaged default"
        ) from None
    except OSError as exc:
        raise ConfigError(f"status mapping {str(path)!r} cannot be read: {exc.strerror}") from None
    return parse_status_mapping(text, source=repr(str(path)))


def parse_status_mapping(text: str, *, source: str) -> StatusMapping:
    """Validate the TOML ``text`` of a status map; ``source`` names it in error messages."""

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"status mapping {source}: {problem}")

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"not valid TOML ({exc}); compare it with {_EXAMPLE}") from None
    extra = sorted(set(data) - {"statuses"})
    if extra:
        raise fail(f'unknown top-level keys {extra!r}; only [statuses."..."] tables belong here')
    tables = data.get("statuses")
    if not isinstance(tables, dict) or not tables:
        raise fail(f'no [statuses."..."] tables; map each of {list(KNOWN_STATUSES)!r}')

    rules: dict[str, StatusRule] = {}
    seen: dict[str, str] = {}
    for name, table in tables.items():
        folded = fold_status(name)
        if not folded:
            raise fail("a status with an empty name; give each table the status it maps")
        if folded in seen:
            raise fail(
                f"status {name!r} is mapped twice (also as {seen[folded]!r}); names are compared "
                "ignoring case and extra spaces, so keep one table"
            )
        seen[folded] = name
        rules[name] = _parse_rule(name, table, fail)

    missing = [status for status in KNOWN_STATUSES if fold_status(status) not in seen]
    if missing:
        status = missing[0]
        raise fail(
            f"national status {status!r} is not mapped"
            + (f" (nor are {missing[1:]!r})" if len(missing) > 1 else "")
            + f'; add a table [statuses."{status}"] with stage = "a".."g", '
            'open311 = "open" or "closed" and final = true or false, as in '
            f"{_EXAMPLE}"
        )
    return StatusMapping(rules, source=source)


def _parse_rule(name: str, table: Any, fail: Callable[[str], ConfigError]) -> StatusRule:
    where = f'[statuses."{name}"]'
    if not isinstance(table, dict):
        raise fail(f"{where} must be a table with stage, open311 and final; got {table!r}")
    unknown = sorted(set(table) - set(_RULE_KEYS))
    if unknown:
        raise fail(f"{where} has unknown keys {unknown!r}; only {list(_RULE_KEYS)!r} belong there")
    absent = [key for key in _RULE_KEYS if key not in table]
    if absent:
        raise fail(f"{where} lacks {absent!r}; set stage, open311 and final")

    stage_code = table["stage"]
    wanted = stage_code.strip().lower() if isinstance(stage_code, str) else None
    stage = next((member for member in Stage if member.value == wanted), None)
    if stage is None:
        raise fail(f'{where} stage = {stage_code!r} is not a stage; use one of "a".."g"')

    open311 = table["open311"]
    if open311 not in ("open", "closed"):
        raise fail(f'{where} open311 = {open311!r}; use "open" or "closed"')

    final = table["final"]
    if not isinstance(final, bool):
        raise fail(f"{where} final = {final!r}; use true or false (no quotes)")
    if final and open311 == "open":
        # A final status is never pulled again, so an open one would stay open for ever.
        raise fail(f'{where} is final but open311 = "open"; a final status must be "closed"')
    return StatusRule(status=name, stage=stage, open311=open311, final=final)
