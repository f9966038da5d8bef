"""A large province in the database, written with bulk inserts so it takes seconds.

Everything is dated relative to one fixed local instant, `BENCH_NOW` (a Wednesday at
10:00, no holiday near), and the bot runs on `BenchClock`, which starts there and then
follows real time: the scheduler's quiet hours and working days then never depend on the
hour the benchmark happens to run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from storage.files import FileKind, store_blob
from storage.invites import INVITE_LIFETIME, new_code
from storage.models import (
    Award,
    Campaign,
    CampaignTitle,
    CouncilResult,
    Invite,
    Member,
    Nominee,
    Organization,
    OutboxMessage,
    OutboxStatus,
    Plan,
    PlanTask,
    RegisteredIndividual,
    Registration,
    RequiredDocument,
    ResultItem,
    StoredFile,
    TaskProgress,
    TaskUnit,
    Unit,
    Upload,
)
from storage.text import name_key

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Wednesday 11 March 2026, 10:00 local: a working day, quarter I, between the pushes of 08:00.
BENCH_LOCAL = datetime(2026, 3, 11, 10, 0, tzinfo=TZ)
BENCH_NOW = BENCH_LOCAL.astimezone(UTC)
YEARS = (2024, 2025, 2026)
ORGANIZATION = "Sở Tư pháp tỉnh Mẫu (benchmark)"
CHUNK = 500  # rows per INSERT … VALUES statement (SQLite caps the variables of one statement)

FOCAL_BASE = 1_000_000  # focal point of unit i: telegram id FOCAL_BASE + i
OFFICE_IDS = (900_001, 900_002)
LEADER_IDS = (900_101,)


class BenchClock:
    """BENCH_NOW at construction, then real time: what the bot's clock reads."""

    def __init__(self) -> None:
        self.anchor = time.time()

    def __call__(self) -> datetime:
        return BENCH_NOW + timedelta(seconds=time.time() - self.anchor)

    def to_bench(self, wall: float) -> datetime:
        """A time.time() value as the bench instant it corresponds to."""
        return BENCH_NOW + timedelta(seconds=wall - self.anchor)


@dataclass(frozen=True, slots=True)
class Scale:
    """How large the province is."""

    units: int = 300
    campaigns_per_year: int = 3
    nominees_per_unit: int = 2  # per launched campaign: one collective, then individuals
    uploads: int = 20_000
    tasks_per_quarter: int = 6
    named_units_per_task: int = 20
    individuals_per_registration: int = 3
    result_items_per_campaign: int = 60
    invites: int = 1_000  # fresh focal invites for the /start benchmark

    @classmethod
    def quick(cls) -> Scale:
        """A small province for a smoke run."""
        return cls(units=40, uploads=1_500, named_units_per_task=5, invites=200)


@dataclass(slots=True)
class Seeded:
    """What the scenarios need to know about the seeded province."""

    scale: Scale
    unit_ids: list[int] = field(default_factory=list)
    focal_ids: dict[int, int] = field(default_factory=dict)  # unit id -> telegram id
    full_dossier_units: list[int] = field(default_factory=list)  # complete in open campaigns
    open_campaign_ids: list[int] = field(default_factory=list)
    invite_codes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    blob_seconds: float = 0.0


def _local(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(UTC)


async def _bulk(conn: AsyncConnection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT … VALUES in chunks."""
    target: Table = table.__table__ if hasattr(table, "__table__") else table
    for start in range(0, len(rows), CHUNK):
        await conn.execute(insert(target).values(list(rows[start : start + CHUNK])))


def _campaign_rows(scale: Scale) -> list[dict[str, Any]]:
    """Three campaigns a year; of 2026 two take dossiers now and one is not launched yet."""
    rows = []
    for year in YEARS:
        for k in range(1, scale.campaigns_per_year + 1):
            if year < 2026:
                launch = date(year, 1 + 3 * (k - 1), 15)
                registration = launch + timedelta(days=45)
                dossier = date(year, 10 + min(k, 3) - 1, 25)
            else:
                launch = [date(2026, 1, 15), date(2026, 2, 24), date(2026, 5, 4)][(k - 1) % 3]
                registration = [date(2026, 2, 27), date(2026, 3, 20), date(2026, 6, 15)][
                    (k - 1) % 3
                ]
                dossier = [date(2026, 3, 25), date(2026, 4, 21), date(2026, 9, 15)][(k - 1) % 3]
            rows.append(
                {
                    "code": f"TD{year}-{k}",
                    "title": f"Phong trào thi đua đợt {k} năm {year}",
                    "theme": "Thi đua hoàn thành xuất sắc nhiệm vụ chính trị",
                    "kind": ["thuong_xuyen", "theo_dot", "chuyen_de"][(k - 1) % 3],
                    "start": date(year, 1, 1),
                    "end": date(year, 12, 31),
                    "organization_id": 1,
                    "all_units": True,
                    "launch_at": _local(launch),
                    "registration_deadline": registration,
                    "dossier_deadline": dossier,
                    "reminders": [7, 3, 1, 0],
                }
            )
    return rows


TITLES = (
    ("tap_the", "Tập thể lao động xuất sắc", "TTLĐXS"),
    ("tap_the", "Tập thể lao động tiên tiến", "TTLĐTT"),
    ("ca_nhan", "Chiến sĩ thi đua cơ sở", "CSTĐCS"),
    ("ca_nhan", "Lao động tiên tiến", "LĐTT"),
)
AWARDS = (
    ("GKTT", "Giấy khen của Giám đốc Sở — tập thể", "tap_the", 40),
    ("GKCN", "Giấy khen của Giám đốc Sở — cá nhân", "ca_nhan", 120),
    ("BKCN", "Bằng khen của Chủ tịch UBND tỉnh — cá nhân", "ca_nhan", 15),
)
DOCUMENTS = (
    ("BB", "Biên bản họp xét khen thưởng", "unit"),
    ("TT", "Tóm tắt thành tích", "nominee"),
    ("BC", "Báo cáo thành tích (mẫu 08)", "nominee"),
)


def _pdf(i: int) -> bytes:
    """A distinct one-page PDF, whole as the content check wants (its catalog, its xref)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Title (ThiDua bench upload %d) >>" % i,
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % (len(objects) + 1)
    return bytes(out + b"startxref\n%d\n%%%%EOF\n" % xref)


def _write_blobs(files_dir: Path, count: int) -> list[tuple[str, int, str]]:
    """`count` distinct tiny PDFs in the content-addressed store: (sha256, size, path)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        blobs = list(pool.map(lambda i: store_blob(files_dir, _pdf(i), FileKind.PDF), range(count)))
    return [(b.sha256, b.size, b.relative_path) for b in blobs]


async def seed(db: Database, files_dir: Path, scale: Scale, *, rng_seed: int = 2026) -> Seeded:
    """Fill a migrated, empty database with the province; returns what the scenarios need."""
    started = time.perf_counter()
    rng = random.Random(rng_seed)
    out = Seeded(scale)
    now = BENCH_NOW
    async with db.engine.begin() as conn:
        # ---- the organisation, units, members, invites
        await _bulk(conn, Organization, [{"id": 1, "code": "BENCH", "name": ORGANIZATION}])
        kinds = ["phong", "don_vi_su_nghiep", "phong_tu_phap_huyen", "khac"]
        units = [
            {
                "id": i,
                "code": f"DV{i:03d}",
                "name": f"Đơn vị số {i} thuộc Sở",
                "kind": kinds[i % 4],
                "organization_id": 1,
                "created_at": now - timedelta(days=900),
            }
            for i in range(1, scale.units + 1)
        ]
        office_unit = scale.units + 1
        units.append(
            {
                "id": office_unit,
                "code": "VP",
                "name": "Văn phòng Sở",
                "kind": "phong",
                "organization_id": 1,
                "created_at": now - timedelta(days=900),
            }
        )
        await _bulk(conn, Unit, units)
        out.unit_ids = [u["id"] for u in units[:-1]]
        members = [
            {
                "telegram_user_id": FOCAL_BASE + i,
                "chat_id": FOCAL_BASE + i,
                "unit_id": i,
                "role": "focal",
                "full_name": f"Đầu mối {i}",
                "active": True,
                "joined_at": now - timedelta(days=400),
            }
            for i in out.unit_ids
        ]
        members += [
            {
                "telegram_user_id": t,
                "chat_id": t,
                "unit_id": office_unit,
                "role": role,
                "full_name": f"{role} {t}",
                "active": True,
                "joined_at": now - timedelta(days=500),
            }
            for role, ids in (("office", OFFICE_IDS), ("leader", LEADER_IDS))
            for t in ids
        ]
        await _bulk(conn, Member, members)
        out.focal_ids = {i: FOCAL_BASE + i for i in out.unit_ids}
        out.invite_codes = [new_code() for _ in range(scale.invites)]
        await _bulk(
            conn,
            Invite,
            [
                {
                    "code": code,
                    "unit_id": out.unit_ids[n % len(out.unit_ids)],
                    "role": "focal",
                    "created_at": now - timedelta(days=1),
                    "expires_at": now - timedelta(days=1) + INVITE_LIFETIME,
                    "created_by": OFFICE_IDS[0],
                }
                for n, code in enumerate(out.invite_codes)
            ],
        )

        # ---- plans, tasks, who is responsible, progress
        plan_rows, task_rows, task_unit_rows, progress_rows = [], [], [], []
        task_id = 0
        for p, year in enumerate(YEARS, start=1):
            plan_rows.append(
                {
                    "id": p,
                    "organization_id": 1,
                    "code": str(year),
                    "year": year,
                    "title": f"Kế hoạch TĐKT năm {year}",
                }
            )
            no = 0
            for quarter in range(1, 5):
                for k in range(scale.tasks_per_quarter):
                    no += 1
                    task_id += 1
                    all_units = k % 2 == 0
                    due = date(year, 3 * quarter, 28)
                    task_rows.append(
                        {
                            "id": task_id,
                            "plan_id": p,
                            "no": no,
                            "quarter": quarter,
                            "content": f"Nhiệm vụ {no}: triển khai phong trào quý {quarter}",
                            "due": due,
                            "all_units": all_units,
                            "lead_unit_id": office_unit,
                            "active": True,
                        }
                    )
                    responsible = (
                        out.unit_ids
                        if all_units
                        else rng.sample(out.unit_ids, min(scale.named_units_per_task, scale.units))
                    )
                    if not all_units:
                        task_unit_rows += [{"task_id": task_id, "unit_id": u} for u in responsible]
                    # Past quarters mostly done; the current one (2026 Q1) about a third.
                    share = 0.3 if (year, quarter) == (2026, 1) else 0.0 if year == 2026 else 0.8
                    progress_rows += [
                        {
                            "task_id": task_id,
                            "unit_id": u,
                            "done_at": min(_local(due) - timedelta(days=rng.randint(0, 40)), now),
                            "done_by": FOCAL_BASE + u,
                        }
                        for u in responsible
                        if rng.random() < share
                    ]
        await _bulk(conn, Plan, plan_rows)
        await _bulk(conn, PlanTask, task_rows)
        await _bulk(conn, TaskUnit, task_unit_rows)
        await _bulk(conn, TaskProgress, progress_rows)

        # ---- campaigns with titles, awards, documents
        campaigns = _campaign_rows(scale)
        for c, row in enumerate(campaigns, start=1):
            row["id"] = c
        await _bulk(conn, Campaign, campaigns)
        titles, awards, documents = [], [], []
        title_ids: dict[tuple[int, str], list[int]] = {}
        award_ids: dict[int, list[tuple[int, str]]] = {}
        doc_ids: dict[int, list[tuple[int, str]]] = {}
        for c in campaigns:
            for pos, (target, name, short) in enumerate(TITLES):
                tid = len(titles) + 1
                titles.append(
                    {
                        "id": tid,
                        "campaign_id": c["id"],
                        "target": target,
                        "name": name,
                        "short": short,
                        "position": pos,
                        "active": True,
                    }
                )
                title_ids.setdefault((c["id"], target), []).append(tid)
            for pos, (code, name, target, quota) in enumerate(AWARDS):
                aid = len(awards) + 1
                awards.append(
                    {
                        "id": aid,
                        "campaign_id": c["id"],
                        "code": code,
                        "name": name,
                        "target": target,
                        "quota": quota,
                        "position": pos,
                        "active": True,
                    }
                )
                award_ids.setdefault(c["id"], []).append((aid, target))
            for pos, (code, name, per) in enumerate(DOCUMENTS):
                did = len(documents) + 1
                documents.append(
                    {
                        "id": did,
                        "campaign_id": c["id"],
                        "code": code,
                        "name": name,
                        "per": per,
                        "position": pos,
                        "active": True,
                    }
                )
                doc_ids.setdefault(c["id"], []).append((did, per))
        await _bulk(conn, CampaignTitle, titles)
        await _bulk(conn, Award, awards)
        await _bulk(conn, RequiredDocument, documents)

        launched = [c for c in campaigns if c["launch_at"] <= now]
        out.open_campaign_ids = [
            c["id"] for c in launched if c["dossier_deadline"] >= BENCH_LOCAL.date()
        ]

        # ---- registrations (most units of past campaigns, half of the open one)
        registrations, individuals = [], []
        for c in launched:
            share = 0.95 if c["registration_deadline"] < BENCH_LOCAL.date() else 0.5
            for u in out.unit_ids:
                if rng.random() >= share:
                    continue
                rid = len(registrations) + 1
                registrations.append(
                    {
                        "id": rid,
                        "campaign_id": c["id"],
                        "unit_id": u,
                        "collective_title_id": title_ids[(c["id"], "tap_the")][u % 2],
                        "registered_by": FOCAL_BASE + u,
                        "registered_at": c["launch_at"] + timedelta(days=rng.randint(1, 30)),
                        "revision": 1,
                    }
                )
                individuals += [
                    {
                        "registration_id": rid,
                        "position": n,
                        "full_name": f"Nguyễn Văn {u}-{n}",
                        "job_title": "Chuyên viên",
                        "title_id": title_ids[(c["id"], "ca_nhan")][n % 2],
                    }
                    for n in range(1, scale.individuals_per_registration + 1)
                ]
        await _bulk(conn, Registration, registrations)
        await _bulk(conn, RegisteredIndividual, individuals)

        # ---- nominees and the slots their documents go in
        nominees: list[dict[str, Any]] = []
        slots: list[tuple[int, int, int | None, int]] = []  # campaign, unit, nominee, document
        for c in launched:
            unit_docs = [d for d, per in doc_ids[c["id"]] if per == "unit"]
            nominee_docs = [d for d, per in doc_ids[c["id"]] if per == "nominee"]
            for u in out.unit_ids:
                slots += [(c["id"], u, None, d) for d in unit_docs]
                for n in range(scale.nominees_per_unit):
                    target = "tap_the" if n == 0 else "ca_nhan"
                    award = next(a for a, t in award_ids[c["id"]] if t == target)
                    nid = len(nominees) + 1
                    name = f"Phòng {u}" if n == 0 else f"Trần Thị {u}-{n}"
                    nominees.append(
                        {
                            "id": nid,
                            "campaign_id": c["id"],
                            "unit_id": u,
                            "name": name,
                            "name_key": name_key(name),
                            "target": target,
                            "award_id": award,
                            "created_by": FOCAL_BASE + u,
                            "created_at": c["launch_at"] + timedelta(days=5),
                            "review_state": "approved"
                            if c["id"] not in out.open_campaign_ids
                            else "none",
                        }
                    )
                    slots += [(c["id"], u, nid, d) for d in nominee_docs]
        await _bulk(conn, Nominee, nominees)

        # ---- uploads: every slot of past campaigns, open ones complete for the first half of
        # the units and partial for the rest; further versions until the total is reached
        half = set(out.unit_ids[: max(1, len(out.unit_ids) // 2)])
        out.full_dossier_units = sorted(half)
        filled = [
            s
            for s in slots
            if s[0] not in out.open_campaign_ids or s[1] in half or rng.random() < 0.5
        ]
        versions = list(filled)
        while len(versions) < scale.uploads:
            versions.append(rng.choice(filled))
        versions = versions[: scale.uploads] if len(filled) <= scale.uploads else filled
        blob_started = time.perf_counter()
        blobs = _write_blobs(files_dir, len(versions))
        out.blob_seconds = time.perf_counter() - blob_started
        await _bulk(
            conn,
            StoredFile,
            [
                {
                    "id": i,
                    "sha256": sha,
                    "size": size,
                    "kind": "pdf",
                    "path": path,
                    "created_at": now - timedelta(days=30),
                }
                for i, (sha, size, path) in enumerate(blobs, start=1)
            ],
        )
        launch_of = {c["id"]: c["launch_at"] for c in campaigns}
        await _bulk(
            conn,
            Upload,
            [
                {
                    "unit_id": u,
                    "campaign_id": c,
                    "nominee_id": n,
                    "document_id": d,
                    "stored_file_id": i,
                    "original_name": f"tai-lieu-{i}.pdf",
                    "telegram_file_id": f"SEEDED{i:08d}",
                    "uploaded_by": FOCAL_BASE + u,
                    "uploaded_at": min(launch_of[c] + timedelta(days=10, minutes=i), now),
                }
                for i, (c, u, n, d) in enumerate(versions, start=1)
            ],
        )

        # ---- council results of past campaigns
        results, items = [], []
        for c in campaigns:
            if c["dossier_deadline"] >= BENCH_LOCAL.date():
                continue
            rid = len(results) + 1
            results.append(
                {
                    "id": rid,
                    "campaign_id": c["id"],
                    "decision": f"Quyết định số {100 + rid}/QĐ-STP",
                    "publish_at": _local(c["dossier_deadline"] + timedelta(days=30)),
                }
            )
            chosen = rng.sample(out.unit_ids, min(scale.result_items_per_campaign, scale.units))
            items += [
                {
                    "result_id": rid,
                    "unit_id": u,
                    "nominee": f"Trần Thị {u}-1",
                    "award_id": award_ids[c["id"]][1][0],
                    "position": pos,
                }
                for pos, u in enumerate(chosen)
            ]
        await _bulk(conn, CouncilResult, results)
        await _bulk(conn, ResultItem, items)

    if not db.is_sqlite:
        await _advance_sequences(db)
    out.counts = await table_counts(db)
    out.seconds = time.perf_counter() - started
    return out


async def _advance_sequences(db: Database) -> None:
    """Explicit ids were inserted: move PostgreSQL's sequences past them."""
    async with db.engine.begin() as conn:
        for table in (
            Unit,
            Member,
            Invite,
            Plan,
            PlanTask,
            Campaign,
            CampaignTitle,
            Award,
            RequiredDocument,
            Registration,
            Nominee,
            StoredFile,
            CouncilResult,
        ):
            name = table.__tablename__
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                )
            )


async def table_counts(db: Database) -> dict[str, int]:
    """Rows per table of interest."""
    counts = {}
    async with db.read() as session:
        for model in (
            Unit,
            Member,
            Campaign,
            Registration,
            RegisteredIndividual,
            Nominee,
            Upload,
            StoredFile,
            PlanTask,
            TaskProgress,
            OutboxMessage,
            Invite,
        ):
            counts[model.__tablename__] = int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
    return counts


async def settle_history(db: Database, tick: Any) -> tuple[int, float]:
    """Run one real scheduler tick (the catch-up since 2024) and mark its rows sent, so the
    outbox holds the province's history; returns (rows, seconds of that tick)."""
    started = time.perf_counter()
    added = await tick()
    seconds = time.perf_counter() - started
    async with db.write() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT, sent_at=BENCH_NOW, attempts=1)
        )
    return int(added), seconds


async def analyze(db: Database) -> None:
    """Fresh planner statistics (both backends)."""
    async with db.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """`items` in slices of `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
