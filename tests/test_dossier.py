"""Dossiers through the emulator: /nophoso, /hoso, files outside the flow, /duyet and the ZIP
(PRODUCT §5 Dossier upload, Status, /duyet; §8 uploads)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import signal
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.emulator import BotApiEmulator, BotMessage
from bot.emulator.sandbox import Person, Reply, Sandbox
from storage.db import Database
from storage.downloads import begin_download
from storage.models import Nominee, PendingDownload, RequiredDocument, Role, Upload
from tests.support.broadcasts import add_focal_points
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import join, pick
from tests.support.processes import start_bot
from tests.support.seasons import ngoai_vu_season
from tests.support.uploads import (
    BAT_WITH_PDF,
    PDF,
    PNG_HEADED_BAT,
    PNG_HEADED_HTA,
    PNG_HEADED_JS,
    docx,
    docx_with_vba,
    jpeg,
    odt,
    pdf,
    png,
    xlsm_as_xlsx,
    xlsx,
)

EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
    + b"\x00" * 48
    + b"PE\x00\x00"
    + b"\x00" * 200
)


# This module's season is another body's: it overrides the Lạng Sơn one of tests/support/.
@pytest.fixture
async def season(sandbox: Sandbox, clock: Clock) -> Sandbox:
    """20/10/2025, Sở Ngoại vụ: dossiers due 30/10/2025; quotas 1 collective, 3 individuals."""
    return await ngoai_vu_season(sandbox, clock)


async def add_nominee(person: Person, award_label: str, name: str) -> Reply:
    step = await person.say("/nophoso")
    awards = await person.press(step.last, pick(step.last, "➕"))
    await person.press(awards.last, award_label)
    return await person.say(name)


async def upload(
    person: Person, screen: BotMessage, document: str, content: bytes, name: str
) -> Reply:
    await person.press(screen, pick(screen, document))
    return await person.send_document(content, name)


async def full_dossier(person: Person) -> dict[str, bytes]:
    """A collective and an individual, each with TT and BC08, plus the unit's minutes (BB);
    returns what was sent, by file name."""
    files = {
        "tom-tat-tap-the.pdf": PDF,
        "bao-cao-08.docx": docx("bao cao"),
        "tom-tat-an.pdf": PDF + b"%an",
        "bao-cao-an.docx": docx("an"),
        "bien-ban-hop-xet.xlsx": xlsx(),
    }
    added = await add_nominee(
        person, "Giấy khen của Giám đốc Sở — tập thể", "Phòng Hợp tác quốc tế"
    )
    assert "Toàn Sở hiện có 1 đề nghị cho chỉ tiêu 1" in added.text
    done = await upload(
        person, added.last, "Tóm tắt", files["tom-tat-tap-the.pdf"], "tom-tat-tap-the.pdf"
    )
    assert 'Đã nhận "tom-tat-tap-the.pdf"' in done.text
    await upload(person, done.last, "Báo cáo", files["bao-cao-08.docx"], "bao-cao-08.docx")
    await person.say("/huy")

    added = await add_nominee(person, "Giấy khen của Giám đốc Sở — cá nhân", "Nguyễn Văn An")
    done = await upload(person, added.last, "Tóm tắt", files["tom-tat-an.pdf"], "tom-tat-an.pdf")
    await upload(person, done.last, "Báo cáo", files["bao-cao-an.docx"], "bao-cao-an.docx")
    await person.say("/huy")

    step = await person.say("/nophoso")
    own = await person.press(step.last, pick(step.last, "📁"))
    await upload(
        person, own.last, "Biên bản", files["bien-ban-hop-xet.xlsx"], "bien-ban-hop-xet.xlsx"
    )
    await person.say("/huy")
    return files


async def test_a_full_dossier_with_status_before_during_and_after(season: Sandbox) -> None:
    hoa = await join(season, 4001, "Hoa", "NV_HTQT", Role.FOCAL)
    before = (await hoa.say("/hoso")).text
    assert "Hạn nộp hồ sơ: 30/10/2025 · còn 10 ngày (8 ngày làm việc)" in before
    assert "❌ Biên bản họp xét khen thưởng" in before and "chưa có cá nhân, tập thể nào" in before
    assert "Còn thiếu 1 tài liệu" in before

    added = await add_nominee(hoa, "Giấy khen của Giám đốc Sở — tập thể", "Phòng Hợp tác quốc tế")
    await upload(hoa, added.last, "Tóm tắt", PDF, "tom-tat.pdf")
    await hoa.say("/huy")
    during = (await hoa.say("/hoso")).text
    assert "👤 Phòng Hợp tác quốc tế — Giấy khen của Giám đốc Sở · Chưa nộp đủ" in during
    assert "✅ Tóm tắt thành tích" in during and "❌ Báo cáo thành tích" in during
    assert "Còn thiếu 2 tài liệu" in during

    step = await hoa.say("/nophoso")
    screen = await hoa.press(step.last, pick(step.last, "Phòng Hợp tác quốc tế"))
    await upload(hoa, screen.last, "Báo cáo", docx("tap the"), "bao-cao-08.docx")
    await hoa.say("/huy")
    again = await add_nominee(hoa, "Giấy khen của Giám đốc Sở — tập thể", "phòng hợp tác quốc tế")
    assert "Đơn vị đã đề nghị" in again.text
    await hoa.say("/huy")
    added = await add_nominee(hoa, "Giấy khen của Giám đốc Sở — cá nhân", "Nguyễn Văn An")
    done = await upload(hoa, added.last, "Tóm tắt", PDF + b"%an", "tom-tat-an.pdf")
    await upload(hoa, done.last, "Báo cáo", docx("an"), "bao-cao-an.docx")
    await hoa.say("/huy")
    step = await hoa.say("/nophoso")
    own = await hoa.press(step.last, pick(step.last, "📁"))
    await upload(hoa, own.last, "Biên bản", xlsx(), "bien-ban.xlsx")
    await hoa.say("/huy")
    after = (await hoa.say("/hoso")).text
    assert "Đã đủ hồ sơ" in after and "❌" not in after
    assert after.count("· Đã nộp đủ") == 2


async def test_bad_files_are_refused_and_versions_counted(season: Sandbox) -> None:
    hoa = await join(season, 4002, "Hoa", "NV_HTQT", Role.FOCAL)
    added = await add_nominee(hoa, "Giấy khen của Giám đốc Sở — cá nhân", "Trần Thị Bình")
    await hoa.press(added.last, pick(added.last, "Tóm tắt"))

    exe = await hoa.send_document(EXE, "bao-cao.pdf")
    assert "không phải loại được nhận" in exe.text and "PDF, DOC, DOCX" in exe.text
    big = await hoa.send_document(b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024), "lon.pdf")
    assert "lớn hơn 20 MB" in big.text
    photo = await hoa.send_photo(b"\xff\xd8\xff\xe0" + b"0" * 64)
    assert "gửi lại dạng <b>tệp</b>".replace("<b>", "").replace("</b>", "") in photo.text
    assert "nhắc" not in photo.text
    text = await hoa.say("đây là tệp")
    assert "Bước này cần một tệp" in text.text

    first = await hoa.send_document(PDF, "tom-tat.pdf")
    assert 'Đã nhận "tom-tat.pdf"' in first.text
    await hoa.press(first.last, pick(first.last, "Tóm tắt"))
    same = await hoa.send_document(PDF, "tom-tat-ban-sao.pdf")
    assert "giống hệt bản đã nộp lúc" in same.text
    await hoa.press(same.last, pick(same.last, "Tóm tắt"))
    second = await hoa.send_document(PDF + b"% sua", "tom-tat-v2.pdf")
    assert "bản thứ 2" in second.text
    files = sorted(p.name for p in season.files_dir.rglob("*.pdf"))
    assert len(files) == 2  # the same content was stored once


async def test_a_file_sent_outside_the_flow_is_kept_and_placed(season: Sandbox) -> None:
    hoa = await join(season, 4003, "Hoa", "NV_HTQT", Role.FOCAL)
    await add_nominee(hoa, "Giấy khen của Giám đốc Sở — cá nhân", "Lê Văn Cường")
    await hoa.say("/huy")

    where = await hoa.send_document(docx("ngoai luong"), "bao-cao-cuong.docx")
    assert 'Đã nhận và lưu tệp "bao-cao-cuong.docx"' in where.text
    nominees = await hoa.press(where.last, where.last.button_texts()[0])
    documents = await hoa.press(nominees.last, "Lê Văn Cường")
    placed = await hoa.press(documents.last, pick(documents.last, "Báo cáo"))
    assert 'Đã nhận "bao-cao-cuong.docx"' in placed.text
    assert "✅ Báo cáo thành tích" in (await hoa.say("/hoso")).text
    assert "gửi lại dạng" in (await hoa.send_photo(b"\xff\xd8\xff" + b"1" * 50)).text


async def test_another_unit_cannot_see_or_fetch_the_files(season: Sandbox) -> None:
    hoa = await join(season, 4004, "Hoa", "NV_HTQT", Role.FOCAL)
    added = await add_nominee(hoa, "Giấy khen của Giám đốc Sở — cá nhân", "Phạm Thị Dung")
    document_data = added.last.button_data(pick(added.last, "Tóm tắt"))
    await upload(hoa, added.last, "Tóm tắt", PDF, "bi-mat.pdf")
    await hoa.say("/huy")
    where = await hoa.send_document(PDF + b"%2", "chua-xep.pdf")
    place_data = where.last.button_data(where.last.button_texts()[0])

    khanh = await join(season, 4005, "Khánh", "NV_QLBG", Role.FOCAL)
    status = (await khanh.say("/hoso")).text
    assert "Phạm Thị Dung" not in status and "bi-mat" not in status
    step = await khanh.say("/nophoso")
    nominee_id = (document_data or "").split(":")[-1]
    for data in (
        f"np:n:{nominee_id}",
        document_data,
        place_data,
        f"pl:n:1:1:{nominee_id}",
        f"dy:o:{nominee_id}",
        "dy:z:1",
    ):
        assert data is not None
        forged = await khanh.press_data(step.last, data)
        assert forged.alert is not None, data
        assert all(m.document is None for m in forged.messages), data
    assert all("bi-mat" not in m.text for m in khanh.messages)


async def test_review_return_with_note_resubmit_and_approve(season: Sandbox) -> None:
    hoa = await join(season, 4006, "Hoa", "NV_HTQT", Role.FOCAL)
    await full_dossier(hoa)
    lan = await join(season, 4007, "Lan", "NV_VP", Role.OFFICE)

    queue = await lan.say("/duyet")
    assert "Hồ sơ chờ thẩm định (2)" in queue.text
    assert "Giấy khen của Giám đốc Sở (cá nhân): 1 đề nghị / chỉ tiêu 3" in queue.text
    item = pick(queue.last, "NV_HTQT · Nguyễn Văn An")
    opened = await lan.press(queue.last, item)
    sent = [m for m in opened.messages if m.document]
    # Each file goes back under a name of its dossier, its original name in the caption.
    names = {m.document["file_name"]: m.text for m in sent if m.document}
    assert sorted(names) == [
        "NV-HTQT-bien-ban-hop-xet-khen-thuong-cua-phong.xlsx",
        "NV-HTQT-nguyen-van-an-bao-cao-thanh-tich-cua-tap-the-ca-nhan.docx",
        "NV-HTQT-nguyen-van-an-tom-tat-thanh-tich-cua-tap-the-ca-nhan.pdf",
    ]
    assert "— bien-ban-hop-xet.xlsx (nộp lúc" in names[sorted(names)[0]]
    assert "— bao-cao-an.docx (nộp lúc" in names[sorted(names)[1]]
    assert "Đang thẩm định" in (await hoa.say("/hoso")).text

    ask = await lan.press(opened.last, "↩️ Yêu cầu bổ sung")
    assert "Gửi nội dung cần bổ sung" in ask.text
    before = len(hoa.messages)
    done = await lan.say("Báo cáo thành tích thiếu chữ ký thủ trưởng & dấu")
    assert "Đơn vị đã được báo (1 người)" in done.text
    await season.deliver()  # the unit is told through the outbox
    told = hoa.messages[before:]
    assert (
        told and "cần bổ sung" in told[-1].text and "thiếu chữ ký thủ trưởng & dấu" in told[-1].text
    )
    returned = (await hoa.say("/hoso")).text
    assert "Nguyễn Văn An — Giấy khen của Giám đốc Sở · Cần bổ sung" in returned
    # A returned dossier is not "complete", whatever files it has (issue 16).
    assert "Đã đủ hồ sơ" not in returned and "1 hồ sơ cần bổ sung" in returned
    assert "Văn phòng Sở ghi chú: Báo cáo thành tích thiếu chữ ký thủ trưởng & dấu" in returned
    assert "Nguyễn Văn An" not in (await lan.say("/duyet")).text.split("Bấm một hồ sơ")[0]

    step = await hoa.say("/nophoso")
    screen = await hoa.press(step.last, pick(step.last, "Nguyễn Văn An"))
    await upload(hoa, screen.last, "Báo cáo", docx("an, co chu ky"), "bao-cao-an-ky.docx")
    await hoa.say("/huy")
    assert "Nguyễn Văn An — Giấy khen của Giám đốc Sở · Đã nộp đủ" in (await hoa.say("/hoso")).text
    again = await lan.say("/duyet")
    opened = await lan.press(again.last, pick(again.last, "NV_HTQT · Nguyễn Văn An"))
    resent = [m for m in opened.messages if m.document]
    assert any("bao-cao-an-ky.docx" in m.text for m in resent)
    assert [m.document["content"] for m in resent if m.document and "-ky" in m.text] == [
        docx("an, co chu ky")
    ]
    before = len(hoa.messages)
    await lan.press(opened.last, "✅ Đủ điều kiện")
    await season.deliver()
    assert (
        "đã được Văn phòng Sở thẩm định, đủ điều kiện trình Hội đồng xét"
        in hoa.messages[before].text
    )
    assert (
        "Nguyễn Văn An — Giấy khen của Giám đốc Sở · Đã thẩm định, đủ điều kiện"
        in (await hoa.say("/hoso")).text
    )
    summary = (await lan.say("/tonghop")).text
    assert "2 đề nghị từ 1 đơn vị" in summary
    assert "đã nộp đủ 1" in summary and "đủ điều kiện 1" in summary


async def test_the_campaign_zip_holds_every_upload_byte_for_byte(season: Sandbox) -> None:
    hoa = await join(season, 4008, "Hoa", "NV_HTQT", Role.FOCAL)
    uploads = await full_dossier(hoa)
    lan = await join(season, 4009, "Lan", "NV_VP", Role.OFFICE)
    queue = await lan.say("/duyet")
    zipped = await lan.press(queue.last, pick(queue.last, "📦"))
    document = zipped.last.document
    assert document is not None and document["file_name"] == "ho-so-NV-DHXVIII-2025.zip"

    archive = zipfile.ZipFile(io.BytesIO(document["content"]))
    names = archive.namelist()
    assert "manifest.csv" in names and "SHA256SUMS" in names
    for content in uploads.values():
        entry = next(n for n in names if n.endswith("/") is False and archive.read(n) == content)
        assert entry.rsplit("/", 1)[-1].startswith("NV-HTQT-")  # a name of its dossier
        assert hashlib.sha256(content).hexdigest() in archive.read("SHA256SUMS").decode()
    assert any(n.startswith("NV_HTQT - ") and "/Nguyễn Văn An/" in n for n in names)
    assert len([n for n in names if not n.endswith("/")]) == len(uploads) + 2


async def test_scripts_and_macro_files_are_refused_and_real_files_of_every_type_kept(
    season: Sandbox,
) -> None:
    hoa = await join(season, 4010, "Hoa", "NV_HTQT", Role.FOCAL)
    hostile = {
        "anh.js": PNG_HEADED_JS,
        "anh.hta": PNG_HEADED_HTA,
        "anh.png": PNG_HEADED_BAT,
        "bao-cao.pdf": BAT_WITH_PDF,
        "bao-cao.bat": BAT_WITH_PDF,
    }
    for name, content in hostile.items():
        refused = await hoa.send_document(content, name)
        assert "không phải loại được nhận" in refused.text, name
        assert "PDF, DOC, DOCX, XLS, XLSX, ODT, ODS, JPG, PNG" in refused.text
    for name, content in {"bien-ban.xlsx": xlsm_as_xlsx(), "bao-cao.docx": docx_with_vba()}.items():
        refused = await hoa.send_document(content, name)
        assert "tệp có macro" in refused.text and "không phải loại" not in refused.text, name
    assert not [p for p in season.files_dir.rglob("*") if p.is_file()]  # nothing kept

    real = {
        "a.pdf": PDF,
        "b.png": png(),
        "c.jpg": jpeg(),
        "d.docx": docx("d"),
        "e.xlsx": xlsx(),
        "f.odt": odt("f"),
    }
    for name, content in real.items():
        kept = await hoa.send_document(content, name)
        assert f'Đã nhận và lưu tệp "{name}"' in kept.text, name
    stored = sorted(p.suffix for p in season.files_dir.rglob("*") if p.is_file())
    assert stored == sorted(p.suffix for p in map(Path, real))


async def test_duyet_sends_each_file_under_a_safe_name_with_its_real_extension(
    season: Sandbox,
) -> None:
    hoa = await join(season, 4011, "Hoa", "NV_HTQT", Role.FOCAL)
    added = await add_nominee(hoa, "Giấy khen của Giám đốc Sở — cá nhân", "Nguyễn Văn An")
    # A real PDF and a real DOCX under the names a hostile sender would give them.
    done = await upload(hoa, added.last, "Tóm tắt", PDF, "bao-cao-thanh-tich.bat")
    assert 'Đã nhận "bao-cao-thanh-tich.bat"' in done.text
    await upload(hoa, done.last, "Báo cáo", docx("an"), "bao-cao.pdf.exe")
    await hoa.say("/huy")
    step = await hoa.say("/nophoso")
    own = await hoa.press(step.last, pick(step.last, "📁"))
    await upload(hoa, own.last, "Biên bản", xlsx(), "bien ban\u202exslx.hta")
    await hoa.say("/huy")

    lan = await join(season, 4012, "Lan", "NV_VP", Role.OFFICE)
    queue = await lan.say("/duyet")
    opened = await lan.press(queue.last, pick(queue.last, "NV_HTQT · Nguyễn Văn An"))
    sent = {m.document["file_name"]: m for m in opened.messages if m.document}
    assert sorted(sent) == [
        "NV-HTQT-bien-ban-hop-xet-khen-thuong-cua-phong.xlsx",
        "NV-HTQT-nguyen-van-an-bao-cao-thanh-tich-cua-tap-the-ca-nhan.docx",
        "NV-HTQT-nguyen-van-an-tom-tat-thanh-tich-cua-tap-the-ca-nhan.pdf",
    ]
    pdf_sent = sent["NV-HTQT-nguyen-van-an-tom-tat-thanh-tich-cua-tap-the-ca-nhan.pdf"]
    assert pdf_sent.document is not None and pdf_sent.document["content"] == PDF
    assert pdf_sent.document["mime_type"] == "application/pdf"
    assert "bao-cao-thanh-tich.bat" in pdf_sent.text  # the original name, as data
    assert "bao-cao.pdf.exe" in sent[sorted(sent)[1]].text

    zipped = await lan.press(queue.last, pick(queue.last, "📦"))
    assert zipped.last.document is not None
    archive = zipfile.ZipFile(io.BytesIO(zipped.last.document["content"]))
    files = sorted(n.rsplit("/", 1)[-1] for n in archive.namelist() if "/" in n)
    assert files == sorted(sent)
    manifest = archive.read("manifest.csv").decode("utf-8-sig")
    assert "bao-cao-thanh-tich.bat" in manifest and "bao-cao.pdf.exe" in manifest


async def pending_downloads(db: Database) -> list[PendingDownload]:
    async with db.read() as session:
        return list(await session.scalars(select(PendingDownload)))


async def test_a_download_cut_off_by_a_restart_is_asked_again_once(
    season: Sandbox, clock: Clock
) -> None:
    hoa = await join(season, 4013, "Hoa", "NV_HTQT", Role.FOCAL)
    assert 'Đã nhận và lưu tệp "a.pdf"' in (await hoa.send_document(PDF, "a.pdf")).text
    await hoa.send_document(PNG_HEADED_JS, "b.js")
    assert await pending_downloads(season.db) == []  # kept or refused: nothing left behind

    # The bot went down between the record and the end of the download.
    clock.set_local("2025-10-20 09:15")
    async with season.db.write() as session:
        await begin_download(
            session,
            chat_id=4013,
            telegram_user_id=4013,
            file_name="bao-cao-thanh-tich.pdf",
            telegram_file_id="lost-file",
            now=clock(),
        )
    # Back up after a while (PostgreSQL instances wait out the lease; SQLite tells at once).
    clock.set_local("2025-10-20 09:30")
    before = len(hoa.messages)
    await season.restart_bot()
    await season.deliver()
    told = [m.text for m in hoa.messages[before:]]
    assert told == [
        'Tệp "bao-cao-thanh-tich.pdf" bạn gửi lúc 09:15 20/10/2025 chưa nhận được do gián đoạn;'
        " vui lòng gửi lại."
    ]
    assert await pending_downloads(season.db) == []
    await season.restart_bot()  # told once: the row is gone
    await season.deliver()
    assert len(hoa.messages) == before + 1


async def test_a_bot_killed_mid_download_asks_for_the_file_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/kill.db"
    db = Database(url)
    await db.migrate()
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    (chat,) = await add_focal_points(db, 950_000, 1, datetime.now(UTC))
    async with BotApiEmulator() as emu:
        user = emu.user(chat, "Hoa")
        first = await start_bot(tmp_path, emu, url)
        # getFile answers after a minute: the bot is mid-download when it is killed.
        emu.fail_next("getFile", status=200, delay=60)
        await user.send_document(PDF, "bao-cao-thanh-tich.pdf")
        await emu.wait_until(lambda: any(r.method == "getFile" for r in emu.requests), 30)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        assert [d.file_name for d in await pending_downloads(db)] == ["bao-cao-thanh-tich.pdf"]

        second = await start_bot(tmp_path, emu, url)
        await emu.wait_until(lambda: any("gián đoạn" in m.text for m in emu.messages(chat)), 30)
        second.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 0, err.decode()
    told = [m.text for m in emu.messages(chat) if "gián đoạn" in m.text]
    assert len(told) == 1 and '"bao-cao-thanh-tich.pdf"' in told[0] and "gửi lại" in told[0]
    assert await pending_downloads(db) == []
    await db.dispose()


# ---- what the office approved is what it saw (issue 17) ----------------------------------------


async def _opened(season: Sandbox, hoa: Person, lan: Person) -> BotMessage:
    """Hoa's full dossier, and the office's screen of Nguyễn Văn An's, opened."""
    await full_dossier(hoa)
    queue = await lan.say("/duyet")
    opened = await lan.press(queue.last, pick(queue.last, "NV_HTQT · Nguyễn Văn An"))
    return opened.last


async def _state_of_an(season: Sandbox) -> str:
    async with season.db.read() as session:
        state = await session.scalar(
            select(Nominee.review_state).where(Nominee.name == "Nguyễn Văn An")
        )
    return str(state)


async def test_a_file_replaced_after_opening_is_never_approved_unseen(season: Sandbox) -> None:
    hoa = await join(season, 4101, "Hoa", "NV_HTQT", Role.FOCAL)
    lan = await join(season, 4102, "Lan", "NV_VP", Role.OFFICE)
    screen = await _opened(season, hoa, lan)
    step = await hoa.say("/nophoso")
    slot = await hoa.press(step.last, pick(step.last, "Nguyễn Văn An"))
    await upload(hoa, slot.last, "Báo cáo", docx("an, ban moi"), "bao-cao-an-moi.docx")
    await hoa.say("/huy")

    pressed = await lan.press(screen, pick(screen, "✅"))
    assert "đã có tệp mới sau khi bạn mở" in pressed.text
    resent = [m for m in pressed.messages if m.document]
    assert any("bao-cao-an-moi.docx" in m.text for m in resent)  # the new file, shown
    assert await _state_of_an(season) == "in_review"
    approved = await lan.press(pressed.last, pick(pressed.last, "✅"))
    assert "đủ điều kiện" in approved.text
    assert await _state_of_an(season) == "approved"


async def test_a_double_tapped_approval_tells_the_unit_once(season: Sandbox) -> None:
    hoa = await join(season, 4103, "Hoa", "NV_HTQT", Role.FOCAL)
    lan = await join(season, 4104, "Lan", "NV_VP", Role.OFFICE)
    screen = await _opened(season, hoa, lan)
    data = screen.button_data(pick(screen, "✅"))
    assert data is not None
    first = await lan.press_data(screen, data)
    second = await lan.press_data(screen, data)
    assert "đủ điều kiện" in first.text
    assert "trước đó" in second.text and "không báo lại" in second.text
    await season.deliver()
    assert sum("đủ điều kiện trình Hội đồng" in m.text for m in hoa.messages) == 1


async def test_a_file_after_approval_sends_the_dossier_back_and_tells_the_office(
    season: Sandbox,
) -> None:
    hoa = await join(season, 4105, "Hoa", "NV_HTQT", Role.FOCAL)
    lan = await join(season, 4106, "Lan", "NV_VP", Role.OFFICE)
    screen = await _opened(season, hoa, lan)
    await lan.press(screen, pick(screen, "✅"))
    assert await _state_of_an(season) == "approved"
    step = await hoa.say("/nophoso")
    slot = await hoa.press(step.last, pick(step.last, "Nguyễn Văn An"))
    await upload(hoa, slot.last, "Báo cáo", docx("an, sua sau"), "bao-cao-an-sua.docx")
    await hoa.say("/huy")
    assert await _state_of_an(season) == "none"
    await season.deliver()
    told = [m for m in lan.messages if "vừa gửi tệp mới cho hồ sơ đã thẩm định" in m.text]
    assert len(told) == 1 and "Nguyễn Văn An" in told[0].text
    assert "Nguyễn Văn An" in (await lan.say("/duyet")).text  # back in the queue


async def test_a_forged_place_button_never_puts_a_file_in_another_unit_s_dossier(
    season: Sandbox,
) -> None:
    """Khánh's own stray file, with a button forged to name Hoa's nominee (or a nominee that
    does not exist): the same answer for both, and the file stays unplaced."""
    hoa = await join(season, 4201, "Hoa", "NV_HTQT", Role.FOCAL)
    await add_nominee(hoa, "Giấy khen của Giám đốc Sở — cá nhân", "Phạm Thị Dung")
    await hoa.say("/huy")
    khanh = await join(season, 4202, "Khánh", "NV_QLBG", Role.FOCAL)
    where = await khanh.send_document(pdf("cua khanh"), "cua-khanh.pdf")
    data = where.last.button_data(where.last.button_texts()[0])
    assert data is not None and data.startswith("pl:c:")
    _, _, upload_id, campaign_id = data.split(":")[:4]
    async with season.db.read() as session:
        dung = await session.scalar(select(Nominee.id).where(Nominee.name == "Phạm Thị Dung"))
        document = await session.scalar(
            select(RequiredDocument.id).where(RequiredDocument.per == "nominee").limit(1)
        )
    answers = []
    for nominee in (dung, 999_999):
        for forged in (
            f"pl:n:{upload_id}:{campaign_id}:{nominee}",
            f"pl:d:{upload_id}:{campaign_id}:{nominee}:{document}",
        ):
            reply = await khanh.press_data(where.last, forged)
            answers.append((reply.alert, [m.text for m in reply.messages]))
    assert len(set(str(a) for a in answers)) == 1 and answers[0][0] is not None
    async with season.db.read() as session:
        placed = await session.scalar(select(Upload.nominee_id).where(Upload.id == int(upload_id)))
    assert placed is None
