"""Telegram's HTML parse mode: plain text plus Bot API entities, or the error Telegram gives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class HtmlParseError(ValueError):
    """Raised when text with parse_mode=HTML would be rejected by Telegram."""


_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _byte_offset(text: str, index: int) -> int:
    """Telegram reports positions as UTF-8 byte offsets, not character indexes."""
    return len(text[:index].encode("utf-8"))


def utf16_len(text: str) -> int:
    """Entity offsets in the Bot API are measured in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode the character reference starting at text[i] == '&'; None if not a valid one.

    Stricter than Telegram (which keeps an unknown '&' literally): the terminating ';' is
    required, so unescaped user data such as "Tom & Jerry" or "AT&T" is caught in tests.
    """
    n = len(text)
    j = i + 1
    if j < n and text[j] == "#":
        j += 1
        hexa = j < n and text[j] in "xX"
        if hexa:
            j += 1
        start = j
        digits = "0123456789abcdefABCDEF" if hexa else "0123456789"
        while j < n and text[j] in digits:
            j += 1
        if j == start or j >= n or text[j] != ";":
            return None
        code = int(text[start:j], 16 if hexa else 10)
        if code == 0 or code >= 0x110000 or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), j + 1
    start = j
    while j < n and text[j].isascii() and text[j].isalpha():
        j += 1
    name = text[start:j]
    if name not in _NAMED_ENTITIES or j >= n or text[j] != ";":
        return None
    return _NAMED_ENTITIES[name], j + 1


@dataclass
class _OpenTag:
    """A start tag waiting for its end tag."""

    name: str
    byte_offset: int
    start: int  # UTF-16 offset in the plain text
    argument: str | None


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into (plain text, Bot API entities) or raise HtmlParseError.

    Follows tdlib's parse_html (error messages included) with two deliberate strictness
    additions: a stray '&' is an error, and <a> requires href.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0

    def fail(message: str) -> HtmlParseError:
        return HtmlParseError(message)

    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is None:
                raise fail(
                    f'Character "&" at byte offset {_byte_offset(text, i)} does not start '
                    'a supported HTML entity; escape it as "&amp;"'
                )
            ch, i = decoded
            out.append(ch)
            pos16 += utf16_len(ch)
            continue
        if c != "<":
            out.append(c)
            pos16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        begin = _byte_offset(text, i)
        if i + 1 < n and text[i + 1] == "/":
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {begin}")
            j = i + 2
            while j < n and text[j] != ">" and not text[j].isspace():
                j += 1
            end_name = text[i + 2 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise fail(f"Unclosed end tag at byte offset {begin}")
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise fail(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", '
                    f'found "</{end_name}>"'
                )
            i = j + 1
            _close_tag(tag, stack, entities, pos16)
            continue
        # A start tag: the name runs to the first space or '>' (as in tdlib).
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise fail(f"Unclosed start tag at byte offset {begin}")
        name = text[i + 1 : j].lower()
        if name not in _SUPPORTED_TAGS:
            raise fail(f'Unsupported start tag "{name}" at byte offset {begin}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise fail(f"Unclosed start tag at byte offset {begin}")
            if text[j] == ">":
                break
            k = j
            while j < n and not text[j].isspace() and text[j] not in "=>":
                j += 1
            attr = text[k:j].lower()
            if not attr:
                raise fail(f'Empty attribute name in the tag "{name}" at byte offset {begin}')
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {begin}"
                )
            j += 1
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise fail(f"Unclosed start tag at byte offset {begin}")
            if text[j] in "'\"":
                quote = text[j]
                j += 1
                value: list[str] = []
                while j < n and text[j] != quote:
                    # URLs routinely contain raw '&', and Telegram accepts them in attributes.
                    decoded = _decode_entity(text, j) if text[j] == "&" else None
                    if decoded is not None:
                        value.append(decoded[0])
                        j = decoded[1]
                    else:
                        value.append(text[j])
                        j += 1
                if j >= n:
                    raise fail(f"Unclosed start tag at byte offset {begin}")
                j += 1
                attrs[attr] = "".join(value)
            else:
                k = j
                while j < n and (text[j].isalnum() or text[j] in ".-"):
                    j += 1
                if j < n and not text[j].isspace() and text[j] != ">":
                    offset = _byte_offset(text, j)
                    raise fail(f"Unexpected end of name token at byte offset {offset}")
                attrs[attr] = text[k:j].lower()
        i = j + 1
        argument: str | None = None
        if name == "a":
            argument = attrs.get("href")
            if not argument:
                raise fail(f'Tag "a" must have attribute "href" at byte offset {begin}')
        elif name == "span":
            if attrs.get("class") != "tg-spoiler":
                raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        elif name == "code":
            cls = attrs.get("class", "")
            argument = cls[len("language-") :] if cls.startswith("language-") else None
        elif name == "blockquote":
            argument = "expandable" if "expandable" in attrs else None
        elif name == "tg-emoji":
            argument = attrs.get("emoji-id")
        stack.append(_OpenTag(name, begin, pos16, argument))
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_tag(
    tag: _OpenTag, stack: list[_OpenTag], entities: list[dict[str, Any]], end: int
) -> None:
    """Turn a closed tag into a Bot API MessageEntity (empty ones are dropped, like Telegram)."""
    if tag.name == "code" and stack and stack[-1].name == "pre" and tag.argument:
        # <pre><code class="language-x"> is how a pre block's language is declared.
        stack[-1].argument = tag.argument
        return
    length = end - tag.start
    if length <= 0:
        return
    kind = _TAG_ENTITY[tag.name]
    entity: dict[str, Any] = {"type": kind, "offset": tag.start, "length": length}
    if kind == "text_link":
        entity["url"] = tag.argument
    elif kind == "pre" and tag.argument:
        entity["language"] = tag.argument
    elif kind == "blockquote" and tag.argument:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.argument or ""
    entities.append(entity)
