"""The data-file format (PRODUCT §6, §6.1): what each YAML document may say, field by field."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from storage.council_rules import parse_share
from storage.models import (
    CampaignKind,
    DeadlineWho,
    DocumentScope,
    Repeat,
    Target,
    UnitKind,
)

ALL = "ALL"
UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,20}$")]
OrgCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$")]
CampaignCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$")]
PlanCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_.-]{0,39}$")]
ItemCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,19}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Words = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LongName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
# "2026-12": within that month ("trong tháng 12/2026"), due its last day.
Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
# The file types an upload may be (storage.files identifies them by content).
FileFormat = Literal["pdf", "doc", "docx", "xls", "xlsx", "odt", "ods", "jpg", "png"]


class Strict(BaseModel):
    """Unknown fields are errors: a misspelt key must not be ignored silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganizationEntry(Strict):
    """An organisation with the words its documents use for its office, head and itself."""

    code: OrgCode
    name: Name
    # e.g. office Văn phòng Sở, head Giám đốc Sở, short Sở (as in toàn Sở)
    office: Words | None = None
    head: Words | None = None
    short: Words | None = None


class UnitEntry(Strict):
    """One unit of a units file."""

    code: UnitCode
    name: Name
    kind: UnitKind
    retired: date | None = None
    merged_into: UnitCode | None = None


class GroupEntry(Strict):
    """An emulation cluster or bloc, or any named set of units."""

    code: UnitCode
    name: Name
    units: list[UnitCode] = Field(min_length=1)


class UnitsDocument(Strict):
    """A units file: the organisation, its units and its groups."""

    organization: OrganizationEntry | Name
    units: list[UnitEntry]
    groups: list[GroupEntry] = []


class TaskEntry(Strict):
    """One task of a plan: a day, a month, "before" a day, no date, or recurring."""

    no: int = Field(ge=1, le=999)
    quarter: int | None = Field(default=None, ge=1, le=4)
    content: LongText
    units: list[UnitCode] = Field(min_length=1)
    lead: UnitCode | None = None
    due: date | Month | None = None
    due_before: date | None = None
    repeat: Repeat | None = None
    day: int | Literal["last"] | None = None
    month: int | None = Field(default=None, ge=1, le=12)


class PlanBody(Strict):
    """The body of a plan document."""

    code: PlanCode | None = None  # default: the year
    organization: OrgCode | None = None
    year: int = Field(ge=2000, le=2100)
    title: Name
    tasks: list[TaskEntry] = Field(min_length=1)

    @property
    def key(self) -> str:
        """The plan's identity within its organisation."""
        return self.code or str(self.year)


class PlanDocument(Strict):
    """A plan file."""

    organization: OrgCode | None = None
    plan: PlanBody


class TitleEntry(Strict):
    """A title given with its usual abbreviation."""

    name: Name
    short: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20)]


class Titles(Strict):
    """The emulation titles units may register for (not the award forms)."""

    tap_the: list[Name | TitleEntry] = []
    ca_nhan: list[Name | TitleEntry] = []


class RegistrationForms(Strict):
    """The names the document gives its registration forms (e.g. Mau 2 for collectives)."""

    tap_the: Words | None = None
    ca_nhan: Words | None = None


def _share(text: str) -> str:
    parse_share(text)  # ValueError names what is wrong
    return text.strip()


Share = Annotated[str, StringConstraints(max_length=20), AfterValidator(_share)]


class VoteEntry(Strict):
    """The council's vote an award needs: a share of those present or of the members."""

    threshold: Share
    of: Literal["present", "members"] = "present"


class CouncilEntry(Strict):
    """The council's session of a campaign: its quorum."""

    quorum: Share


class AwardEntry(Strict):
    """An award form (not an emulation title) with its quotas and, if any, its own papers."""

    code: ItemCode
    name: Name
    target: Target
    quota: int | None = Field(default=None, ge=1, le=100_000)
    quota_per_unit: int | None = Field(default=None, ge=1, le=10_000)
    quota_overrides: dict[UnitCode, Annotated[int, Field(ge=0, le=10_000)]] = {}
    documents: list[ItemCode] | None = None
    decided_by: Name | None = None
    vote: VoteEntry | None = None


class DocumentEntry(Strict):
    """A dossier document: required or optional, with its accepted types and a note."""

    code: ItemCode
    name: LongName
    per: DocumentScope
    optional: bool = False
    formats: list[FileFormat] | None = Field(default=None, min_length=1)
    note: LongName | None = None


class DeadlineEntry(Strict):
    """A step of a campaign with its own date, or counted from another step or the launch."""

    code: ItemCode
    title: LongName
    due: date | Month | None = None
    due_before: date | None = None
    # Another deadline's code, or one of the campaign's own steps.
    after: Literal["launch", "registration", "dossier"] | ItemCode | None = None
    days: int | None = Field(default=None, ge=0, le=400)
    working_days: bool = False
    units: Literal["ALL"] | list[UnitCode] | None = None  # None: the campaign's
    reminders: list[int] | None = Field(default=None, max_length=10)
    who: DeadlineWho = DeadlineWho.UNITS


class CampaignBody(Strict):
    """The body of a campaign document."""

    code: CampaignCode
    organization: OrgCode | None = None
    title: LongName
    theme: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""
    kind: CampaignKind
    start: date
    end: date
    units: Literal["ALL"] | list[UnitCode] = ALL
    launch_at: datetime | None = None
    registration_deadline: date | None = None
    dossier_deadline: date | None = None
    reminders: list[int] = Field(default=[7, 3, 1, 0], max_length=10)
    deadlines: list[DeadlineEntry] = []
    review_within_working_days: int | None = Field(default=None, ge=1, le=90)
    registration_forms: RegistrationForms = RegistrationForms()
    titles: Titles = Titles()
    awards: list[AwardEntry] = []
    documents: list[DocumentEntry] = []
    council: CouncilEntry | None = None


class CampaignDocument(Strict):
    """A campaign file."""

    organization: OrgCode | None = None
    campaign: CampaignBody


class ResultEntry(Strict):
    """One award the council granted."""

    unit: UnitCode
    nominee: Name
    award: ItemCode


class ResultsBody(Strict):
    """The body of a council results document: one decision of a campaign."""

    campaign: CampaignCode
    decision: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    decided_by: Name | None = None
    publish_at: datetime
    items: list[ResultEntry] = Field(min_length=1)


class ResultsDocument(Strict):
    """A council results file."""

    organization: OrgCode | None = None
    results: ResultsBody


# The first top-level key that names a document's kind.
KINDS: dict[str, type[BaseModel]] = {
    "units": UnitsDocument,
    "plan": PlanDocument,
    "campaign": CampaignDocument,
    "results": ResultsDocument,
}
