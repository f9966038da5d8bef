"""Migration 0012 carries a database of the previous version: every unit gets its
organisation, plans their code, and push keys the ids that keep "sent once" true."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from storage.db import _alembic_config

LEGACY = [
    "INSERT INTO units (id, code, name, kind, organization, created_at) VALUES "
    "(1, 'VP', 'Văn phòng Sở', 'phong', 'Sở Tư pháp tỉnh Lạng Sơn', '2026-01-01 00:00:00'),"
    "(2, 'HCTP', 'Phòng HCTP', 'phong', 'Sở Tư pháp tỉnh Lạng Sơn', '2026-01-01 00:00:00'),"
    "(3, 'BK_VP', 'Văn phòng Sở', 'phong', 'Sở Tư pháp tỉnh Bắc Kạn', '2026-01-01 00:00:00')",
    "INSERT INTO plans (id, year, title) VALUES (1, 2026, 'Kế hoạch 2026')",
    "INSERT INTO plan_tasks (id, plan_id, no, quarter, content, due, all_units, active) VALUES "
    "(1, 1, 1, 1, 'Phát động', '2026-03-31', 1, 1)",
    "INSERT INTO task_units (task_id, unit_id) VALUES (1, 1)",
    "INSERT INTO task_progress (task_id, unit_id, done_at, done_by) VALUES "
    "(1, 2, '2026-02-01 00:00:00', 5)",
    'INSERT INTO campaigns (id, code, title, theme, kind, start, "end", all_units, launch_at, '
    "reminders) VALUES (1, 'C1', 'Phong trào', '', 'thuong_xuyen', '2026-01-01', '2026-12-31', "
    "1, '2026-01-15 01:00:00', '[7]')",
    "INSERT INTO council_results (id, campaign_id, decision, publish_at) VALUES "
    "(1, 1, '12/QĐ', '2026-11-10 01:00:00')",
    "INSERT INTO outbox (key, push_key, kind, chat_id, text, status, not_before, created_at, "
    "attempts, timeouts, resent_after_crash) VALUES "
    "('quarterly_tasks:2026-Q1:VP:7', 'quarterly_tasks:2026-Q1:VP', 'quarterly_tasks', 7, 't',"
    " 'sent', '2026-01-05 01:00:00', '2026-01-05 01:00:00', 1, 0, 0),"
    "('results:C1:VP:7', 'results:C1:VP', 'results', 7, 't', 'sent', '2026-11-10 01:00:00',"
    " '2026-11-10 01:00:00', 1, 0, 0)",
]


def test_a_database_of_the_previous_version_keeps_its_meaning(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn, True), "0011")
        for statement in LEGACY:
            conn.execute(text(statement))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn, True), "head")
    with engine.connect() as conn:
        orgs = dict(conn.execute(text("SELECT name, id FROM organizations")).all())
        assert set(orgs) == {"Sở Tư pháp tỉnh Lạng Sơn", "Sở Tư pháp tỉnh Bắc Kạn"}
        units = dict(conn.execute(text("SELECT code, organization_id FROM units")).all())
        assert units["VP"] == units["HCTP"] == orgs["Sở Tư pháp tỉnh Lạng Sơn"]
        assert units["BK_VP"] == orgs["Sở Tư pháp tỉnh Bắc Kạn"]
        plan = conn.execute(text("SELECT organization_id, code FROM plans")).one()
        assert tuple(plan) == (orgs["Sở Tư pháp tỉnh Lạng Sơn"], "2026")
        # Two bodies: "every unit" is written out as the list it meant.
        assert conn.execute(text("SELECT all_units FROM campaigns")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM campaign_units")).scalar_one() == 3
        assert conn.execute(text("SELECT count(*) FROM task_units")).scalar_one() == 3
        progress = conn.execute(text("SELECT task_id, unit_id, period FROM task_progress")).one()
        assert tuple(progress) == (1, 2, "")
        keys = set(conn.execute(text("SELECT push_key FROM outbox")).scalars())
        assert keys == {"quarterly_tasks:2026-Q1:1:VP", "results:C1:1:VP"}


def test_0013_gives_every_nominee_its_name_key_and_keeps_two_spellings_of_one_name(
    tmp_path: Path,
) -> None:
    """Before 0013, SQLite let "Ánh Dương" and "ánh dương" be two nominees: both rows stay, the
    later one's key carries its id, and from now on the unique index holds."""
    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn, True), "0012")
        conn.execute(
            text(
                "INSERT INTO organizations (id, code, name, office, head, short) VALUES "
                "(1, 'O', 'Sở', 'Văn phòng Sở', 'Giám đốc Sở', 'Sở')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO units (id, code, name, kind, organization_id, created_at) VALUES "
                "(1, 'HCTP', 'Phòng HCTP', 'phong', 1, '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO campaigns (id, organization_id, code, title, theme, kind, start,"
                ' "end", all_units, launch_at, reminders) VALUES'
                " (1, 1, 'C1', 'Phong trào', '', 'thuong_xuyen', '2026-01-01', '2026-12-31', 1,"
                " '2026-01-15 01:00:00', '[7]')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO awards (id, campaign_id, code, name, target, position, active) VALUES"
                " (1, 1, 'GK', 'Giấy khen', 'ca_nhan', 0, 1)"
            )
        )
        for n, name in enumerate(["Ánh Dương", "ánh dương", "Lê Văn Hải"], start=1):
            conn.execute(
                text(
                    "INSERT INTO nominees (id, campaign_id, unit_id, name, target, award_id,"
                    " created_by, created_at, review_state) VALUES (:id, 1, 1, :name, 'ca_nhan',"
                    " 1, 1, '2026-02-01 00:00:00', 'none')"
                ),
                {"id": n, "name": name},
            )
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn, True), "head")
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT id, name, name_key FROM nominees ORDER BY id")).all()
    assert [tuple(k) for k in keys] == [
        (1, "Ánh Dương", "ánh dương"),
        (2, "ánh dương", "ánh dương #2"),
        (3, "Lê Văn Hải", "lê văn hải"),
    ]


def test_0016_keeps_members_and_their_outbox_rows_on_telegram(tmp_path: Path) -> None:
    """Before 0016 every member was on Telegram: after it each still is (pushes to Telegram,
    no Zalo account), its outbox rows are Telegram's, and a member on Zalo only fits."""
    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn, True), "0015")
        for statement in (
            "INSERT INTO organizations (id, code, name) VALUES (1, 'O', 'Sở Tư pháp')",
            "INSERT INTO units (id, code, name, kind, organization_id, created_at) VALUES "
            "(1, 'HCTP', 'Phòng HCTP', 'phong', 1, '2026-01-01 00:00:00')",
            "INSERT INTO members (id, telegram_user_id, chat_id, unit_id, role, full_name,"
            " active, joined_at) VALUES (1, 501, 501, 1, 'focal', 'Minh', 1,"
            " '2026-01-02 00:00:00')",
            "INSERT INTO outbox (key, push_key, kind, chat_id, member_id, text, status,"
            " not_before, created_at, attempts, timeouts, resent_after_crash) VALUES"
            " ('p:501', 'p', 'launch', 501, 1, 't', 'sent', '2026-01-15 01:00:00',"
            " '2026-01-15 01:00:00', 1, 0, 0)",
        ):
            conn.execute(text(statement))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn, True), "head")
        conn.execute(
            text(
                "INSERT INTO members (id, unit_id, role, full_name, active, joined_at,"
                " zalo_user_id, zalo_chat_id, push_to) VALUES (2, 1, 'focal', 'Thảo', 1,"
                " '2026-01-03 00:00:00', 'z1', 'z1', 'zalo')"
            )
        )
    with engine.connect() as conn:
        members = conn.execute(
            text("SELECT id, telegram_user_id, push_to, zalo_user_id FROM members ORDER BY id")
        ).all()
        rows = conn.execute(text("SELECT channel, address, member_id FROM outbox")).all()
    assert [tuple(m) for m in members] == [(1, 501, "telegram", None), (2, None, "zalo", "z1")]
    assert [tuple(r) for r in rows] == [("telegram", None, 1)]
