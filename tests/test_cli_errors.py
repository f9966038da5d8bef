"""The command line tells the operator what is wrong in one Vietnamese line each, in one run:
a broken set of data files, a busy port, a bad output path, a missing archive; `--help` in
Vietnamese; local times; dry runs that write nothing."""

from __future__ import annotations

import argparse
import json
import re
import socket
import sqlite3
import tarfile
from contextlib import closing
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.cli_parser import build_parser
from tests.support.cli import thiduabot
from tests.support.paths import EXAMPLES

# What argparse, PyYAML and pydantic say in English: never shown.
ENGLISH = re.compile(
    r"usage:|positional arguments|options:|show this help|the following arguments|"
    r"error:|invalid choice|Input should|Field required|Extra inputs|found character|"
    r"while scanning|while parsing|could not find|Traceback|\(UTC\)"
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_broken_set_of_files_lists_every_error_once_in_one_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    tabbed = write(data, "tab.yaml", "units:\n\t- {code: VP}\n")
    units = write(
        data,
        "units-xa.yaml",
        "organization: {code: XA-TT, name: UBND xã Tân Thanh}\nunits:\n"
        "  - {code: VP, name: Văn phòng, kind: phong}\n"
        "  - {code: TP, name: Tư pháp, kind: vu}\n",
    )
    plan = write(
        data,
        "plan-xa.yaml",
        "organization: XA-TT\nplan:\n  year: 2026\n  title: Kế hoạch\n  tasks:\n"
        "    - {no: 1, quarter: 1, content: Báo cáo, units: [VP, TP, KHONGCO]}\n",
    )
    campaign = write(
        data,
        "campaign-xa.yaml",
        "organization: XA-TT\ncampaign:\n  code: XA-2026\n  title: Thi đua 2026\n"
        "  kind: theo_dot\n  start: 2026-01-01\n  end: 2026-12-31\n"
        "  awards:\n    - {code: GK, name: Giấy khen, target: ca_nhan, quota: 0}\n",
    )
    empty = write(data, "empty.yaml", "")
    comments = write(data, "comments.yaml", "# chỉ có chú thích\n")
    folder = data / "thu-muc"
    folder.mkdir()
    files = [tabbed, units, plan, campaign, empty, comments, folder]

    code, out, err = await thiduabot(tmp_path, "load", *(str(f) for f in files))

    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    expected = [
        f"{tabbed}: dòng 2, cột 1: YAML không hợp lệ: có ký tự tab",
        f"{units}: units[2] (TP), trường kind: phải là một trong: phong,",
        # The cross-file check, in the same run as the schema errors of the other files:
        f"{plan}: plan (2026), tasks[1] (1), trường units: không có đơn vị mã KHONGCO",
        f"{campaign}: campaign (XA-2026), awards[1] (GK), trường quota: quá nhỏ: tối thiểu 1",
        f"{empty}: tệp trống",
        f"{comments}: tệp không có tài liệu nào",
        f"{folder}: đây là một thư mục, không phải tệp",
    ]
    for start in expected:
        assert sum(line.startswith(start) for line in lines) == 1, (start, err)
    # TP is wrong in its own file, which says so: the plan is not reported for naming it.
    assert not any("mã TP" in line for line in lines)
    assert lines[-1] == f"Có {len(expected)} lỗi; chưa ghi gì vào cơ sở dữ liệu."
    assert len(lines) == len(expected) + 1
    assert not ENGLISH.search(err) and "trường -" not in err and ": -," not in err
    # Nothing written: no database file, no scratch left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # noqa: ASYNC240


async def test_a_file_with_a_schema_error_still_gets_its_references_checked(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    units = write(
        data,
        "units.yaml",
        "organization: {code: XA-TT, name: UBND xã Tân Thanh}\nunits:\n"
        "  - {code: VP, name: Văn phòng, kind: phong}\n"
        "  - {code: TP, name: Tư pháp, kind: phong}\n",
    )
    code, _, err = await thiduabot(tmp_path, "load", str(units))
    assert code == 0, err
    plan = write(
        data,
        "plan.yaml",
        "organization: XA-TT\nplan:\n  year: 2026\n  title: Kế hoạch\n  tasks:\n"
        "    - {no: 1, quarter: 7, content: Báo cáo, units: [VP, KHONGCO1]}\n"
        "    - {no: 2, quarter: 1, content: Tổng kết, units: [VP, KHONGCO2]}\n"
        "    - {no: 3, content: Họp, units: [vp, KHONGCO3], due: 2027-01-05}\n",
    )
    campaign = write(
        data,
        "campaign.yaml",
        "organization: XA-TT\ncampaign:\n  code: XA-2026\n  title: Thi đua 2026\n"
        "  kind: theo_dot\n  start: 2026-01-01\n  end: 2026-12-31\n  units: [VP, KHONGCO4]\n"
        "  deadlines:\n    - {code: B1, title: Bước 1, due: 2026-13-01}\n"
        "    - {code: B2, title: Bước 2, after: B1, days: 3}\n"
        "    - {code: B3, title: Bước 3, after: B9, days: 3}\n"
        "  documents:\n    - {code: TT, name: Tờ trình, per: ho_so}\n"
        "    - {code: BC, name: Báo cáo thành tích, per: unit}\n"
        "  awards:\n    - {code: GK, name: Giấy khen, target: ca_nhan, quota: 0}\n"
        "    - {code: BK, name: Bằng khen, target: ca_nhan, documents: [TT, BC, XX],"
        " quota_overrides: {KHONGCO5: 1}}\n",
    )
    # Its campaign is right but for entries left out: the results are checked against it.
    good_campaign = write(
        data,
        "campaign-2.yaml",
        "organization: XA-TT\ncampaign:\n  code: XA-2027\n  title: Thi đua 2027\n"
        "  kind: theo_dot\n  start: 2027-01-01\n  end: 2027-12-31\n"
        "  awards:\n    - {code: GK, name: Giấy khen, target: ca_nhan, quota: 0}\n"
        "    - {code: BK, name: Bằng khen, target: ca_nhan}\n",
    )
    results = write(
        data,
        "results.yaml",
        "organization: XA-TT\nresults:\n  campaign: XA-2027\n  decision: QĐ 1\n"
        "  publish_at: 2027-12-01 08:00\n  items:\n"
        "    - {unit: VP, nominee: Nguyễn Văn A, award: GK}\n"
        "    - {unit: VP, nominee: Trần Thị B, award: KHONG}\n"
        "    - {unit: KHONGCO6, nominee: Lê Văn C, award: BK}\n"
        "    - {unit: VP, nominee: Phạm Văn D}\n",
    )
    files = [plan, campaign, good_campaign, results]

    code, out, err = await thiduabot(tmp_path, "load", *(str(f) for f in files))

    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    known = "(hãy nạp tệp đơn vị trước hoặc cùng lúc)"
    expected = [
        f"{plan}: plan (2026), tasks[1] (1), trường quarter: quá lớn: tối đa 4",
        f"{plan}: plan (2026), tasks[2] (2), trường units: không có đơn vị mã KHONGCO2 {known}",
        f"{plan}: plan (2026), tasks[3] (3), trường units[1]: không đúng dạng mã",
        f"{plan}: plan (2026), tasks[3] (3), trường due: hạn phải nằm trong năm 2026",
        f"{plan}: plan (2026), tasks[3] (3), trường units: không có đơn vị mã KHONGCO3 {known}",
        f"{campaign}: campaign (XA-2026), deadlines[1] (B1), trường due: không phải ngày hợp lệ",
        f"{campaign}: campaign (XA-2026), deadlines[3] (B3), trường after: không có bước B9",
        f"{campaign}: campaign (XA-2026), documents[1] (TT), trường per: phải là một trong:",
        f"{campaign}: campaign (XA-2026), awards[1] (GK), trường quota: quá nhỏ: tối thiểu 1",
        f"{campaign}: campaign (XA-2026), awards[2] (BK), trường documents: "
        "không có tài liệu mã XX trong documents của phong trào (có: BC)",
        f"{campaign}: campaign (XA-2026), trường units: không có đơn vị mã KHONGCO4 {known}",
        f"{campaign}: campaign (XA-2026), awards[2] (BK), trường quota_overrides: "
        f"không có đơn vị mã KHONGCO5 {known}",
        f"{good_campaign}: campaign (XA-2027), awards[1] (GK), trường quota: quá nhỏ",
        f"{results}: results, items[4], trường award: thiếu (bắt buộc)",
        f"{results}: results (XA-2027), items[2] (Trần Thị B), trường award: "
        "phong trào không có hình thức khen thưởng mã KHONG (có: BK)",
        f"{results}: results (XA-2027), items[3] (Lê Văn C), trường unit: "
        f"không có đơn vị mã KHONGCO6 {known}",
    ]
    for start in expected:
        assert sum(line.startswith(start) for line in lines) == 1, (start, err)
    # Nothing is reported twice: not the unit of a task with a schema error, not a reference
    # to an entry left out for its own errors (B1, TT, GK).
    for left_out in ("mã KHONGCO1", "(B2)", "mã TT", "mã GK"):
        assert left_out not in err, (left_out, err)
    assert lines[-1] == f"Có {len(expected)} lỗi; chưa ghi gì vào cơ sở dữ liệu."
    assert len(lines) == len(expected) + 1
    assert not ENGLISH.search(err)
    with closing(sqlite3.connect(tmp_path / "cli.db")) as db:
        for table in ("plans", "plan_tasks", "campaigns", "awards", "council_results"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        assert db.execute("SELECT count(*) FROM units").fetchone() == (2,)


async def test_a_good_load_after_a_failed_one_and_a_bad_one_against_stored_data(
    tmp_path: Path,
) -> None:
    bad = write(
        tmp_path,
        "plan.yaml",
        "plan:\n  year: 2026\n  title: KH\n  tasks:\n"
        "    - {no: 1, quarter: 1, content: A, units: [VP, KHONGCO]}\n",
    )
    tabbed = write(tmp_path, "tab.yaml", "units:\n\t- {code: VP}\n")
    code, out, err = await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"))
    assert code == 0, err
    code, _, err = await thiduabot(tmp_path, "load", str(bad), str(tabbed))
    assert code == 1
    assert "không có đơn vị mã KHONGCO" in err and "có ký tự tab" in err
    code, out, _ = await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"))
    assert code == 0 and "không đổi 12" in out


async def test_a_busy_port_is_named(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = await thiduabot(
            tmp_path,
            "run",
            "--webhook",
            "https://bot.example.org/telegram",
            "--listen",
            "127.0.0.1",
            "--port",
            str(port),
            BOT_TOKEN="123456:ABCDEFGHIJKL",
            WEBHOOK_SECRET="bi-mat",
        )
    assert code == 2
    assert err.strip() == (
        f"Cổng {port} trên 127.0.0.1 đang được một chương trình khác dùng (có thể là một bot "
        "đang chạy): hãy dừng chương trình đó hoặc chọn cổng khác bằng --port."
    )
    assert not (tmp_path / "cli.db").exists()


@pytest.mark.parametrize(
    ("out", "said"),
    [
        ("thu-muc", "đây là một thư mục, không phải tệp"),
        ("tep.txt/tong-hop.xlsx", "một phần của đường dẫn là tệp, không phải thư mục"),
    ],
)
async def test_a_bad_out_path_is_named(tmp_path: Path, out: str, said: str) -> None:
    (tmp_path / "thu-muc").mkdir()
    (tmp_path / "tep.txt").write_text("x", encoding="utf-8")
    for command in (["export", "--out", out], ["backup", "--out", out]):
        code, _, err = await thiduabot(tmp_path, *command)
        assert code == 2, err
        assert err.strip().startswith(f"Không ghi được {out}: {said}"), err
        assert len(err.strip().splitlines()) == 1 and "DATABASE_URL" not in err


async def test_restoring_a_missing_archive_says_so(tmp_path: Path) -> None:
    await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"))  # a database exists
    code, _, err = await thiduabot(tmp_path, "restore", "khong-co.tar.gz")
    assert code == 2 and err.strip() == "Không tìm thấy tệp sao lưu khong-co.tar.gz."
    (tmp_path / "thu-muc").mkdir()
    code, _, err = await thiduabot(tmp_path, "restore", "thu-muc", "--force")
    assert code == 2 and "là một thư mục, không phải tệp sao lưu" in err


async def test_backup_and_restore_show_local_times(tmp_path: Path) -> None:
    await thiduabot(tmp_path, "load", str(EXAMPLES / "units-lang-son.yaml"))
    code, out, err = await thiduabot(tmp_path, "backup", "--out", "b/sao-luu.tar.gz")
    assert code == 0, err
    with tarfile.open(tmp_path / "b" / "sao-luu.tar.gz") as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())  # type: ignore[union-attr]
    local = datetime.fromisoformat(manifest["created_at"]).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert f"thời điểm sao lưu {local:%H:%M %d/%m/%Y}." in out and "UTC" not in out
    code, out, err = await thiduabot(tmp_path, "restore", "b/sao-luu.tar.gz", "--force")
    assert code == 0, err
    assert f"tạo lúc {local:%H:%M %d/%m/%Y}" in out and "UTC" not in out


async def test_dry_runs_write_nothing(tmp_path: Path) -> None:
    code, out, err = await thiduabot(tmp_path, "due", "--at", "2026-01-15 08:30")
    assert code == 2 and "Chưa có cơ sở dữ liệu" in err and "không tạo gì" in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = await thiduabot(tmp_path, "due", "--from", "2026-01-01", "--to", "2026-01-31")
    assert code == 2
    code, out, err = await thiduabot(tmp_path, "calendar", "2026")  # the holidays package alone
    assert code == 0 and "Năm 2026:" in out, err
    assert list(tmp_path.iterdir()) == []  # noqa: ASYNC240


def test_help_is_vietnamese_and_explains_every_argument(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in [None, *subparsers.choices]:
        with pytest.raises(SystemExit) as stopped:
            main(["--help"] if name is None else [name, "--help"])
        assert stopped.value.code == 0
        text = capsys.readouterr().out
        assert text.startswith("Cách dùng: thiduabot") and "Tùy chọn:" in text
        assert "in hướng dẫn này rồi thoát" in text
        assert not ENGLISH.search(text), text
    for name, command in subparsers.choices.items():
        for action in command._actions:
            assert action.help not in (None, "", argparse.SUPPRESS), (name, action.dest)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["invite"], "thiduabot invite: lỗi: thiếu tham số bắt buộc: --role"),
        (["khong-co"], "thiduabot: lỗi: tham số LỆNH: giá trị 'khong-co' không hợp lệ"),
        (["run", "--port", "cong"], 'thiduabot run: lỗi: tham số --port: Cổng "cong"'),
        (["load", "a.yaml", "--thu"], "thiduabot: lỗi: không nhận ra tham số: --thu"),
    ],
)
def test_an_argument_mistake_is_one_vietnamese_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(said) and len(err.strip().splitlines()) == 1, err
    assert not ENGLISH.search(err.replace("lỗi:", "")), err
