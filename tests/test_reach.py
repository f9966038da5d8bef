"""Reaching the Bot API from where Telegram is blocked (PRODUCT §9): every request through
BOT_PROXY (HTTP and SOCKS5, getUpdates and file downloads included), a self-hosted Bot API
server in local mode (files over 20 MB, read from its disk), and the settings of both."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import ssl
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select
from telegram import Bot
from telegram.error import BadRequest

from bot.config import ConfigError, Settings, load_settings
from bot.emulator import BotApiEmulator, BotMessage
from bot.emulator.sandbox import Person, Reply, Sandbox
from bot.reach import bot_connection, shown_proxy
from storage.models import Role, StoredFile, Upload
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import join, pick
from tests.support.proxies import HttpProxy, Socks5Proxy
from tests.support.uploads import PDF, docx, pdf

# The emulator's name for the bot: only the proxies resolve it (to loopback), so a request
# that went around the proxy could not even find the server.
HIDDEN = "bot-api.thidua.invalid"
MB = 1024 * 1024


class ReachSandbox(Sandbox):
    """The sandbox whose bot has settings of its own: a proxy, local mode, a file limit, the
    emulator called by a name only the proxy knows."""

    def __init__(
        self,
        *,
        api_host: str | None = None,
        api_scheme: str = "http",
        extra: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.api_host, self.api_scheme = api_host, api_scheme
        self.extra = extra

    @property
    def settings(self) -> Settings:
        """The sandbox's settings with this bot's own."""
        values = super().settings.model_dump()
        if self.api_host is not None:
            where = f"{self.api_scheme}://{self.api_host}:{self.emulator.port}"
            values.update(bot_api_base_url=f"{where}/bot", bot_api_file_url=f"{where}/file/bot")
        return Settings(**{**values, **self.extra})


async def ngoai_vu(box: Sandbox, clock: Clock) -> Sandbox:
    """20/10/2025, Sở Ngoại vụ: its units and its 2025 campaign, dossiers open."""
    clock.set_local("2025-10-20 09:00")
    await box.db.migrate()
    await load_files(
        box.db,
        EXAMPLES / "units-ngoai-vu-lang-son.yaml",
        EXAMPLES / "campaign-ngoai-vu-2025.yaml",
    )
    return box


def calls(lines: list[str]) -> Counter[str]:
    """The Bot API methods (or "file" for a download) of the proxy's request lines."""
    paths = [line.split(" ")[1] for line in lines]
    return Counter("file" if p.startswith("/file/") else p.rsplit("/", 1)[1] for p in paths)


def received(emulator: BotApiEmulator) -> Counter[str]:
    """What the emulator answered: its methods, and "file" for each download."""
    return Counter([r.method for r in emulator.requests] + ["file"] * len(emulator.downloads))


async def talk_through(box: ReachSandbox, proxy: HttpProxy | Socks5Proxy) -> None:
    """/start with an invite, and a document outside any flow: downloaded and kept."""
    async with box:
        hoa = await join(box, 4101, "Hoa", "NV_HTQT", Role.FOCAL)
        kept = await hoa.send_document(docx("qua proxy"), "bao-cao.docx")
        assert 'Đã nhận và lưu tệp "bao-cao.docx"' in kept.text
        assert box.emulator.downloads  # the file came over HTTP, through the proxy
    emulator_calls, proxy_calls = received(box.emulator), calls(proxy.requests)
    # Everything the emulator answered came through the proxy (it could not have come any
    # other way: the name resolves only there); the proxy may also have carried the last
    # poll, cut off by the stop before the emulator read it.
    assert emulator_calls - proxy_calls == Counter()
    assert proxy_calls - emulator_calls in (Counter(), Counter(getUpdates=1))
    for method in ("getMe", "getUpdates", "sendMessage", "getFile", "file"):
        assert emulator_calls[method] >= 1, method
    assert proxy.carried.targets and {t.split(":")[0] for t in proxy.carried.targets} == {HIDDEN}


@pytest.mark.parametrize(
    ("kind", "credentials"),
    [
        ("http", None),
        ("http", ("thidua", "bi mat")),
        ("socks5", None),
        ("socks5h", ("thidua", "m@t khau:1")),
    ],
)
async def test_every_request_goes_through_the_proxy(
    sqlite_url: str, tmp_path: Path, clock: Clock, kind: str, credentials: tuple[str, str] | None
) -> None:
    hosts = {HIDDEN: "127.0.0.1"}
    proxy: HttpProxy | Socks5Proxy
    proxy = (
        HttpProxy(hosts=hosts, credentials=credentials)
        if kind == "http"
        else Socks5Proxy(hosts=hosts, credentials=credentials)
    )
    async with proxy:
        auth = ""
        if credentials is not None:
            auth = f"{quote(credentials[0])}:{quote(credentials[1], safe='')}@"
        box = ReachSandbox(
            database_url=sqlite_url,
            files_dir=tmp_path / "files",
            clock=clock,
            api_host=HIDDEN,
            extra={"bot_proxy": f"{kind}://{auth}127.0.0.1:{proxy.port}"},
        )
        await ngoai_vu(box, clock)
        await talk_through(box, proxy)
        assert proxy.carried.refused == 0
        if kind == "http":
            assert proxy.tunnels == 0  # plain http:// targets: absolute-URI requests


async def test_a_socks_proxy_refuses_a_wrong_password(tmp_path: Path) -> None:
    async with (
        BotApiEmulator() as emulator,
        Socks5Proxy(credentials=("thidua", "dung")) as proxy,
    ):
        settings = Settings(
            bot_token=emulator.token,  # type: ignore[arg-type]
            bot_api_base_url=emulator.base_url,
            bot_api_file_url=emulator.file_url,
            bot_proxy=f"socks5://thidua:sai@127.0.0.1:{proxy.port}",  # type: ignore[arg-type]
        )
        bot = Bot(emulator.token, **bot_connection(settings))
        with pytest.raises(Exception, match=r"(?i)password|proxy"):
            await bot.initialize()
        assert proxy.carried.refused >= 1 and not emulator.requests


def _certificate(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for the hidden name, by the openssl command (None without)."""
    if shutil.which("openssl") is None:
        return None
    key, cert = folder / "proxy.key", folder / "proxy.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={HIDDEN}"),
            *("-addext", f"subjectAltName=DNS:{HIDDEN}"),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


async def test_https_targets_go_through_connect_tunnels(
    sqlite_url: str, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An https:// Bot API (as api.telegram.org is) is reached by CONNECT: this proxy refuses
    anything else, and ends the TLS of each tunnel itself (its certificate trusted by the
    test through SSL_CERT_FILE) to count the requests inside."""
    made = _certificate(tmp_path)
    if made is None:
        pytest.skip("no openssl command to make the proxy's certificate")
    key, cert = made
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    async with HttpProxy(hosts={HIDDEN: "127.0.0.1"}, connect_only=True, tls=tls) as proxy:
        box = ReachSandbox(
            database_url=sqlite_url,
            files_dir=tmp_path / "files",
            clock=clock,
            api_host=HIDDEN,
            api_scheme="https",  # the proxy ends the TLS; the emulator speaks plain HTTP
            extra={"bot_proxy": f"http://127.0.0.1:{proxy.port}"},
        )

        await ngoai_vu(box, clock)
        await talk_through(box, proxy)
        assert proxy.tunnels >= 2 and proxy.carried.refused == 0  # the poll has its own


async def test_the_proxy_password_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    url = "socks5://thidua:bi-mat-42@proxy.example:1080"
    assert shown_proxy(url) == "socks5://thidua:***@proxy.example:1080"
    assert shown_proxy("http://127.0.0.1:3128") == "http://127.0.0.1:3128"
    settings = load_settings(_env_file=None, bot_proxy=url)
    assert "bi-mat-42" not in repr(settings) and "bi-mat-42" not in str(settings)
    with caplog.at_level(logging.DEBUG, logger="bot.reach"):
        connection = bot_connection(settings)
    assert "proxy.example:1080" in caplog.text and "bi-mat-42" not in caplog.text
    assert connection["local_mode"] is False


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"bot_proxy": "ftp://127.0.0.1:21"},
            "BOT_PROXY phải là URL http://, https:// hoặc socks5://",
        ),
        ({"bot_proxy": "127.0.0.1:1080"}, "BOT_PROXY phải là URL"),
        ({"bot_proxy": "socks5://u:bi-mat@host:99999"}, "BOT_PROXY phải là URL"),
        ({"max_file_mb": 50}, "MAX_FILE_MB lớn hơn 20 cần BOT_API_LOCAL=true"),
        ({"bot_api_local": True}, "BOT_API_LOCAL bật (true) thì BOT_API_BASE_URL phải là"),
        ({"bot_api_local": "chac"}, "BOT_API_LOCAL phải là true hoặc false"),
    ],
)
def test_a_reach_setting_mistake_is_one_line(overrides: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **overrides)
    message = str(caught.value)
    assert expected in message and "\n" not in message
    assert "bi-mat" not in message


def test_the_settings_that_reach_are_taken() -> None:
    for url in ("http://10.0.0.1:3128", "https://u:p@proxy.vn", "socks5://127.0.0.1:1080"):
        assert load_settings(_env_file=None, bot_proxy=url).bot_proxy is not None
    assert load_settings(_env_file=None, bot_proxy="socks5h://u:p@h:1").bot_proxy is not None
    local = load_settings(
        _env_file=None,
        bot_api_local=True,
        max_file_mb=2000,
        bot_api_base_url="http://10.0.0.5:8081/bot",
        bot_api_file_url="http://10.0.0.5:8081/file/bot",
    )
    assert local.max_file_bytes == 2000 * MB
    assert bot_connection(local)["local_mode"] is True
    assert load_settings(_env_file=None).max_file_mb == 20


# ---------------------------------------------------------------------- local mode


async def test_local_mode_gives_a_path_on_disk_and_serves_no_file(tmp_path: Path) -> None:
    big = b"%PDF-1.4\n" + bytes(25 * MB)
    async with BotApiEmulator(local=True) as local, BotApiEmulator() as public:
        for emulator in (local, public):
            emulator.user(1001, "Lan")
            await emulator.user(1001, "Lan").send_document(big, "lon.pdf")
        async with Bot(local.token, base_url=local.base_url, base_file_url=local.file_url) as bot:
            (update,) = await bot.get_updates(timeout=0)
            file = await bot.get_file(update.message.document.file_id)
            assert file.file_size == len(big) and file.file_path is not None
            on_disk = Path(file.file_path)
            assert on_disk.is_absolute() and await asyncio.to_thread(on_disk.read_bytes) == big
            assert local.token in on_disk.parts and on_disk.parts[-2] == "documents"
            # The real server in local mode serves no file over HTTP: the path is read.
            relative = on_disk.relative_to(local.local_dir / local.token)  # type: ignore[operator]
            with pytest.raises(Exception, match=r"(?i)not found"):
                await bot.request.retrieve(f"{local.file_url}{local.token}/{relative}")
        async with Bot(
            public.token, base_url=public.base_url, base_file_url=public.file_url
        ) as bot:
            (update,) = await bot.get_updates(timeout=0)
            with pytest.raises(BadRequest, match=r"(?i)file is too big"):
                await bot.get_file(update.message.document.file_id)
        folder = local.local_dir
    assert folder is not None and not folder.exists()  # the emulator's files went at stop


async def upload(person: Person, screen: BotMessage, document: str, content: bytes) -> Reply:
    await person.press(screen, pick(screen, document))
    return await person.send_document(content, "tom-tat-lon.pdf")


async def nominee_screen(person: Person) -> BotMessage:
    """A nominee added in the dossier flow: the screen of its documents."""
    step = await person.say("/nophoso")
    awards = await person.press(step.last, pick(step.last, "➕"))
    await person.press(awards.last, "Giấy khen của Giám đốc Sở — cá nhân")
    return (await person.say("Trần Thị Bình")).last


BIG_PDF = pdf("25 MB", body=b"0" * (25 * MB))


async def test_a_25_mb_file_is_kept_through_a_local_bot_api_server(
    sqlite_url: str, tmp_path: Path, clock: Clock
) -> None:
    emulator = BotApiEmulator(
        local=True, chat_rate=5.0, chat_burst=200, global_rate=30.0, global_burst=500
    )
    box = ReachSandbox(
        database_url=sqlite_url,
        files_dir=tmp_path / "files",
        clock=clock,
        emulator=emulator,
        extra={"bot_api_local": True, "max_file_mb": 50},
    )
    await ngoai_vu(box, clock)
    async with box:
        assert box.app is not None and box.app.bot.local_mode
        hoa = await join(box, 4102, "Hoa", "NV_HTQT", Role.FOCAL)
        kept = await upload(hoa, await nominee_screen(hoa), "Tóm tắt", BIG_PDF)
        assert 'Đã nhận "tom-tat-lon.pdf"' in kept.text
        assert not emulator.downloads  # read from the server's disk, not over HTTP
        async with box.db.read() as session:
            (upload_row,) = (await session.execute(select(Upload))).scalars()
            blob = await session.get(StoredFile, upload_row.stored_file_id)
        assert upload_row.original_name == "tom-tat-lon.pdf" and upload_row.document_id
        assert blob is not None and blob.size == len(BIG_PDF)
        assert blob.sha256 == hashlib.sha256(BIG_PDF).hexdigest()
        (stored,) = box.files_dir.rglob("*.pdf")
        assert await asyncio.to_thread(stored.read_bytes) == BIG_PDF
        assert "✅ Tóm tắt thành tích" in (await hoa.say("/hoso")).text


async def test_a_25_mb_file_is_refused_through_the_public_bot_api(
    sqlite_url: str, tmp_path: Path, clock: Clock
) -> None:
    box = Sandbox(database_url=sqlite_url, files_dir=tmp_path / "files", clock=clock)
    await ngoai_vu(box, clock)
    async with box:
        hoa = await join(box, 4103, "Hoa", "NV_HTQT", Role.FOCAL)
        refused = await upload(hoa, await nominee_screen(hoa), "Tóm tắt", BIG_PDF)
        assert "lớn hơn 20 MB" in refused.text
        assert not box.emulator.downloads and not list(box.files_dir.rglob("*.pdf"))
        small = await hoa.send_document(PDF, "tom-tat.pdf")  # the step still waits for a file
        assert 'Đã nhận "tom-tat.pdf"' in small.text


async def test_the_command_line_preflight_goes_through_the_proxy() -> None:
    from bot.cli import _preflight

    async with BotApiEmulator() as emulator, Socks5Proxy(hosts={HIDDEN: "127.0.0.1"}) as proxy:
        where = f"http://{HIDDEN}:{emulator.port}"
        settings = Settings(
            bot_token=emulator.token,  # type: ignore[arg-type]
            bot_api_base_url=f"{where}/bot",
            bot_api_file_url=f"{where}/file/bot",
            bot_proxy=f"socks5://127.0.0.1:{proxy.port}",  # type: ignore[arg-type]
        )
        assert await _preflight(settings) == emulator.bot_username
        assert calls(proxy.requests)["getMe"] == 1
