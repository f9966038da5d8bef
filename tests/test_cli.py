"""The `thiduabot` command line as an operator runs it: real processes, real exit codes."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from pathlib import Path

import pytest

from bot.emulator import BotApiEmulator
from messages import render_text
from tests.support.calendar import SWAP
from tests.support.cli import cli_env, thiduabot
from tests.support.paths import EXAMPLES


async def test_load_reports_every_error_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "units-bad.yaml"
    bad.write_text(
        "organization: Sở thử\nunits:\n"
        "  - {code: VP, name: Văn phòng, kind: phong}\n"
        "  - {code: VP, name: Trùng, kind: phong}\n"
        "  - {code: X, name: Sai loại, kind: vu}\n",
        encoding="utf-8",
    )
    code, out, err = await thiduabot(
        tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"), str(bad)
    )
    assert code == 1
    assert "units-bad.yaml: units[2] (VP), trường code: trùng mã với mục thứ 1" in err
    assert "units-bad.yaml: units[3] (X), trường kind: phải là một trong" in err
    assert "chưa ghi gì" in err and "Traceback" not in err

    code, out, _ = await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"))
    assert code == 0 and "Đơn vị: thêm 12" in out  # the failed load had written nothing
    code, out, _ = await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"))
    assert code == 0 and "thêm 0, cập nhật 0, không đổi 12" in out


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"MAX_FILE_MB": "lots"}, "MAX_FILE_MB"),
        ({"BOT_TIMEZONE": "Asia/Hanoi_Typo"}, "BOT_TIMEZONE"),
        ({"DATABASE_URL": "postgres://x"}, "DATABASE_URL"),
    ],
)
async def test_a_configuration_mistake_is_one_line(
    tmp_path: Path, env: dict[str, str], needle: str
) -> None:
    code, _, err = await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"), **env)
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


async def test_run_without_token_names_it(tmp_path: Path) -> None:
    code, _, err = await thiduabot(tmp_path, "run")
    assert code == 2 and "BOT_TOKEN" in err and "Traceback" not in err


async def test_run_with_unreachable_api_is_one_line(tmp_path: Path) -> None:
    code, _, err = await thiduabot(
        tmp_path, "run", BOT_TOKEN="123456:ABCDEFGHIJKL", BOT_API_BASE_URL="http://127.0.0.1:9/bot"
    )
    assert code == 2 and "Không kết nối được Bot API" in err and "Traceback" not in err


async def test_invite_json_and_invite_all(tmp_path: Path) -> None:
    async with BotApiEmulator() as emu:
        api = {"BOT_TOKEN": emu.token, "BOT_API_BASE_URL": emu.base_url}
        await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"))
        code, out, err = await thiduabot(
            tmp_path, "invite", "vp", "--role", "office", "--json", **api
        )
        assert code == 0, err
        invite = json.loads(out)
        assert set(invite) == {"code", "link", "unit", "role", "expires_at"}
        assert invite["unit"] == "VP" and invite["role"] == "office"
        assert invite["link"] == f"https://t.me/{emu.bot_username}?start={invite['code']}"

        # The username is remembered: no token needed any more.
        code, out, _ = await thiduabot(tmp_path, "invite", "--all", "--role", "focal", "--json")
        lines = [json.loads(line) for line in out.splitlines()]
        # Nine units report: Lãnh đạo Sở and the two councils get no focal invite.
        assert code == 0 and len(lines) == 9 and len({i["code"] for i in lines}) == 9
        assert not {i["unit"] for i in lines} & {"LDS", "HDTDKT", "HDSK"}

        code, _, err = await thiduabot(tmp_path, "invite", "NOPE", "--role", "focal")
        assert code == 2 and "NOPE" in err and "Traceback" not in err
        code, _, err = await thiduabot(tmp_path, "invite", "--role", "focal")
        assert code == 2 and "--all" in err


async def test_run_answers_users_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with BotApiEmulator() as emu:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=cli_env(
                tmp_path,
                BOT_TOKEN=emu.token,
                BOT_API_BASE_URL=emu.base_url,
                BOT_API_FILE_URL=emu.file_url,
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stranger = emu.user(42, "Khách")
        await stranger.send("xin chào")
        replies = await stranger.wait_messages(1, timeout=30)
        assert "mã mời" in replies[0].text

        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
        assert "Traceback" not in err.decode()
        assert emu.token not in err.decode()  # the token never reaches the log


async def test_demo_prints_the_onboarding_transcript(tmp_path: Path) -> None:
    code, out, err = await thiduabot(tmp_path, "demo", seconds=120)
    assert code == 0, err
    assert "[Lan] /start" in out and "[bot → Lan]" in out
    assert "Văn phòng Sở" in out and "Phòng Hành chính tư pháp" in out
    assert "chỉ dành cho Văn phòng Sở" in out
    # Each jump of the demo's clock is marked, in order.
    marks = [
        out.index(f"——— {at} ———")
        for at in ("15/01/2026 07:30", "10/02/2026 09:00", "12/03/2026 08:00")
    ]
    assert marks == sorted(marks)
    # The bot is restarted mid-registration; the confirm right after still goes through.
    restart = out.index(render_text("cli/demo_restart"))
    assert "Đã ghi nhận đăng ký thi đua" in out[restart:]
    # The council of three: ballots, a reminder, the tally, the drafts with their sizes, and
    # the decision's results pushed to the unit.
    council = out[out.index("——— 12/03/2026 09:30 ———") :]
    assert council.count("(toast: Đã ghi nhận phiếu.)") == 3
    assert "Chưa đủ số thành viên" in council and "Nhắc bỏ phiếu" in council
    for paper in ("bien-ban-hop-hoi-dong", "to-trinh-khen-thuong", "quyet-dinh-khen-thuong"):
        assert re.search(rf"📎 {paper}-STP-LS-2026\.docx \([\d,]+ bytes\)", council), paper
    assert "[bot → Minh] 🏅 Kết quả thi đua" in council and "125/QĐ-STP" in council


async def test_export_writes_the_summary_workbook(tmp_path: Path) -> None:
    files = ["units-lang-son.yaml", "plan-2026-lang-son.yaml", "campaign-lang-son-2026.yaml"]
    code, _, err = await thiduabot(tmp_path, "load", *(str(EXAMPLES / f) for f in files))
    assert code == 0, err
    out = tmp_path / "out" / "tong-hop.xlsx"
    code, stdout, err = await thiduabot(
        tmp_path, "export", "--campaign", "STP-LS-2026", "--out", str(out)
    )
    assert code == 0, err
    assert "1 phong trào" in stdout
    from openpyxl import load_workbook

    workbook = load_workbook(out)
    assert workbook.sheetnames[0] == "Tổng quan"
    registrations = workbook[next(n for n in workbook.sheetnames if n.startswith("ĐK"))]
    codes = {registrations.cell(r, 1).value for r in range(1, 20)}
    assert {"VP", "HCTP", "TGPL"} <= codes
    assert registrations.freeze_panes is not None
    code, _, err = await thiduabot(tmp_path, "export", "--campaign", "NOPE", "--out", str(out))
    assert code == 2 and "NOPE" in err and "Traceback" not in err


async def test_due_prints_the_schedule_as_json(tmp_path: Path) -> None:
    (tmp_path / "lich-2026.yaml").write_text(SWAP, encoding="utf-8")
    files = ["units-lang-son.yaml", "plan-2026-lang-son.yaml", "campaign-lang-son-2026.yaml"]
    await thiduabot(
        tmp_path, "load", *(str(EXAMPLES / f) for f in files), str(tmp_path / "lich-2026.yaml")
    )
    code, out, err = await thiduabot(
        tmp_path, "due", "--from", "2026-01-01", "--to", "2026-01-31", "--json"
    )
    assert code == 0, err
    pushes = json.loads(out)
    assert {"at", "kind", "unit", "subject", "key", "sent"} <= set(pushes[0])
    assert pushes[0]["at"] == "2026-01-05 08:00" and pushes[0]["kind"] == "quarterly_tasks"
    assert not any(p["sent"] for p in pushes)
    code, out, _ = await thiduabot(tmp_path, "due", "--at", "2026-01-15 08:30")
    assert code == 0 and "launch" in out and "STP-LS-2026" in out
    code, _, err = await thiduabot(tmp_path, "due", "--at", "mai")
    assert code == 2 and "YYYY-MM-DD HH:MM" in err and "Traceback" not in err
    code, _, err = await thiduabot(tmp_path, "due", "--from", "2026-01-01")
    assert code == 2 and "--to" in err


async def test_invite_and_export_name_the_body_when_the_database_holds_several(
    tmp_path: Path,
) -> None:
    xa = tmp_path / "xa.yaml"
    xa.write_text(
        "organization: {code: XA-TT, name: UBND xã Tân Thanh}\nunits:\n"
        "  - {code: VP, name: Văn phòng HĐND và UBND xã, kind: phong}\n",
        encoding="utf-8",
    )
    await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"), str(xa))
    async with BotApiEmulator() as emu:
        api = {"BOT_TOKEN": emu.token, "BOT_API_BASE_URL": emu.base_url}
        code, out, err = await thiduabot(tmp_path, "invite", "VP", "--role", "office", **api)
        assert code == 2 and "--org" in err and "XA-TT" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
        code, out, err = await thiduabot(
            tmp_path, "invite", "VP", "--role", "office", "--org", "xa-tt", "--json", **api
        )
        assert code == 0, err
        assert json.loads(out)["unit"] == "VP"
    code, _, err = await thiduabot(tmp_path, "export", "--out", "x.xlsx", "--org", "KHONGCO")
    assert code == 2 and "KHONGCO" in err and "STP-LS" in err
