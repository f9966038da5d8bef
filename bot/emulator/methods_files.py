"""The Bot API methods on files: sendDocument and sendPhoto (uploads, attach://, known
file_ids) and getFile with its download path and size limit.

In local mode (`local=True`, as `telegram-bot-api --local`) getFile writes the file into a
directory of the emulator's own, laid out as the real server's (`<dir>/<token>/documents/
file_1.pdf`), and answers with that absolute path, up to 2000 MB; the server then serves no
file over HTTP (the real one never does: a local bot reads the path). The directory goes at
stop()."""

from __future__ import annotations

import mimetypes
import tempfile
from pathlib import Path
from typing import Any

from bot.emulator.methods_messages import MAX_CAPTION_LENGTH, MessageMethods
from bot.emulator.records import StoredFile
from bot.emulator.wire import Params, bad


class FileMethods(MessageMethods):
    """The part of the emulator that takes and gives files."""

    # Local mode's files on disk, made at the first getFile.
    _local_dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def local_dir(self) -> Path | None:
        """Where local mode keeps the files getFile gave (None until the first)."""
        return Path(self._local_dir.name) if self._local_dir is not None else None

    def _local_path(self, stored: StoredFile) -> str:
        """The file on disk, written at its first getFile, as the local server downloads it."""
        if self._local_dir is None:
            self._local_dir = tempfile.TemporaryDirectory(prefix="thidua-bot-api-")
        path = Path(self._local_dir.name, self.token, stored.file_path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(stored.content)
        return str(path)

    def _drop_local_files(self) -> None:
        """Remove local mode's directory (at stop)."""
        if self._local_dir is not None:
            self._local_dir.cleanup()
            self._local_dir = None

    def _served_file(self, path: str) -> StoredFile | None:
        """The file a download URL names; none in local mode, where no file is served."""
        return None if self.local else self._files_by_path.get(path)

    def _media(self, params: Params, key: str, folder: str) -> StoredFile:
        """The file for sendDocument/sendPhoto: an upload, attach://name, or a known file_id."""
        upload = params.uploads.get(key)
        value = params.get_str(key)
        if upload is None and value and value.startswith("attach://"):
            upload = params.uploads.get(value[len("attach://") :])
        if upload is not None:
            if not upload.content:
                raise bad("file must be non-empty")
            name = upload.filename if folder == "documents" else None
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = (mimetypes.guess_type(name)[0] if name else None) or mime
            return self._store_file(upload.content, name, mime, folder)
        if not value:
            raise bad(f"there is no {key} in the request")
        stored = self._files.get(value)
        if stored is None:
            raise bad("wrong file identifier/HTTP URL specified")
        return stored

    # ------------------------------------------------------------------ API methods

    async def _send_media(self, params: Params, key: str, folder: str) -> Any:
        """sendDocument / sendPhoto."""
        user = self._chat(params, sending=True)
        stored = self._media(params, key, folder)
        plain, parse_mode, entities = self._text_and_entities(
            params, "caption", MAX_CAPTION_LENGTH, "message caption is too long", required=False
        )
        markup = self._parse_markup(params)
        media: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "content": stored.content,
        }
        msg = self._new_bot_message(
            user,
            text=plain,
            html=params.get_str("caption"),
            parse_mode=parse_mode,
            entities=entities,
            reply_markup=markup,
            **({"document": media} if key == "document" else {"photo": media}),
        )
        return self._message_api(msg)

    async def _api_send_document(self, params: Params) -> Any:
        """sendDocument."""
        return await self._send_media(params, "document", "documents")

    async def _api_send_photo(self, params: Params) -> Any:
        """sendPhoto."""
        return await self._send_media(params, "photo", "photos")

    async def _api_get_file(self, params: Params) -> Any:
        """getFile: metadata plus a download path, refused above max_download_bytes."""
        stored = self._files.get(params.get_str("file_id") or "")
        if stored is None:
            raise bad("invalid file_id")
        if len(stored.content) > self.max_download_bytes:
            raise bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": self._local_path(stored) if self.local else stored.file_path,
        }
