"""The Bot API methods on files: sendDocument and sendPhoto (uploads, attach://, known
file_ids) and getFile with its download path and size limit."""

from __future__ import annotations

import mimetypes
from typing import Any

from bot.emulator.methods_messages import MAX_CAPTION_LENGTH, MessageMethods
from bot.emulator.records import StoredFile
from bot.emulator.wire import Params, bad


class FileMethods(MessageMethods):
    """The part of the emulator that takes and gives files."""

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
            "file_path": stored.file_path,
        }
