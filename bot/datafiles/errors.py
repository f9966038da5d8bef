"""The operator's words for what YAML and pydantic report: every error a Vietnamese line
naming the file, the entry and the field, never the libraries' English."""

from __future__ import annotations

import typing
from typing import Any

import yaml
from pydantic import ValidationError

from bot.datafiles import schema
from bot.datafiles.checks import LoadError
from messages import render_text


def _pattern(annotated: Any) -> str:
    return str(typing.get_args(annotated)[1].pattern)


# The patterns of the schema's codes, by the words that explain them (cli/load/pydantic).
_PATTERNS = {
    _pattern(schema.UnitCode): "unit_code",
    _pattern(schema.OrgCode): "code",
    _pattern(schema.CampaignCode): "code",
    _pattern(schema.PlanCode): "plan_code",
    _pattern(schema.ItemCode): "item_code",
    _pattern(schema.Month): "month",
}

# What PyYAML says (its `problem`), by the words that explain it (cli/load/yaml); first match.
_YAML_PROBLEMS = (
    ("'\\t'", "tab"),
    ("tab character", "tab"),
    ("that cannot start any token", "character"),
    ("mapping values are not allowed", "colon"),
    ("could not find expected ':'", "no_colon"),
    ("expected <block end>", "indent"),
    ("did not find expected key", "indent"),
    ("did not find expected '-' indicator", "dash"),
    ("found unexpected end of stream", "end"),
    ("expected ',' or", "comma"),
    ("did not find expected node content", "value"),
    ("found unknown escape character", "escape"),
    ("found undefined alias", "alias"),
    ("special characters are not allowed", "control"),
)


def yaml_error(file: str, exc: yaml.YAMLError) -> LoadError:
    """One line for a file YAML cannot read: where (line, column) and what, in Vietnamese."""
    said = str(getattr(exc, "problem", None) or getattr(exc, "reason", None) or exc)
    kind = next((k for needle, k in _YAML_PROBLEMS if needle in said), "")
    detail = said.split("found character ", 1)[-1].split(" that", 1)[0] if kind else ""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        where = render_text("cli/load/position", line=mark.line + 1, column=mark.column + 1)
    elif isinstance(exc, yaml.reader.ReaderError):
        where = render_text("cli/load/position", line="?", column=exc.position + 1)
    else:
        where = ""
    return LoadError(file, where, "", render_text("cli/load/yaml", kind=kind, detail=detail))


def _ident(node: Any) -> str:
    if isinstance(node, dict):
        for key in ("code", "no", "year"):
            if node.get(key) not in (None, "") and not isinstance(node[key], dict | list):
                return f" ({node[key]})"
        names = node.get("names")  # a rule: the first name of its title
        if isinstance(names, list) and names and isinstance(names[0], str) and names[0].strip():
            return f" ({names[0].strip()})"
    return ""


def pydantic_errors(file: str, doc: Any, exc: ValidationError) -> list[LoadError]:
    """Each field once. A union reports each of its members: when the value has the shape of
    one (a mapping for a model), that member says what is wrong; otherwise the first."""
    found = exc.errors()
    tags = [real_path(doc, tuple(err["loc"]))[1] for err in found]
    shaped: dict[tuple[Any, ...], set[Any]] = {}
    for err, tag in zip(found, tags, strict=True):
        loc = tuple(err["loc"])
        if tag is not None and len(loc) > tag + 1:
            shaped.setdefault(loc[:tag], set()).add(loc[tag])
    errors: dict[tuple[str, str], LoadError] = {}
    for err, tag in zip(found, tags, strict=True):
        loc = tuple(err["loc"])
        if tag is not None and loc[:tag] in shaped and loc[tag] not in shaped[loc[:tag]]:
            continue
        error = _pydantic_error(file, doc, err)
        errors.setdefault((error.entry, error.field), error)
    return list(errors.values())


def real_path(doc: Any, loc: tuple[Any, ...]) -> tuple[list[str | int], int | None]:
    """The parts of `loc` that are keys and positions of the document, and where the first
    part naming the member of a union that failed ('constrained-str', 'TitleEntry', …) was."""
    node, path, tag = doc, [], None
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path.append(part)
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
        elif part == "[key]":
            continue
        elif isinstance(node, dict) and node.get("kind") == part:
            continue  # the tag of a discriminated union (a rule's condition): not a field
        elif isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif _is_union_member(part):
            tag = i if tag is None else tag
        else:
            path.append(part)  # a missing field: named, nothing below it
            node = None
    return path, tag


def _is_union_member(part: str) -> bool:
    return part[:1].isupper() or any(c in part for c in "[-") or part in {"str", "int", "date"}


def _pydantic_error(file: str, doc: Any, err: Any) -> LoadError:
    """The entry is the innermost list item, with its code; the field is what is left. An
    error about a list item itself names the item as the field of the entry around it."""
    path, _ = real_path(doc, tuple(err["loc"]))
    positions = [i for i, part in enumerate(path) if isinstance(part, int)]
    if len(positions) >= 2 and positions[-1] == len(path) - 1:
        cut = positions[-2] + 1
    elif positions:
        cut = positions[-1] + 1
    else:
        cut = 1 if len(path) > 1 else 0
    node, pieces, text = doc, [], ""
    for i, part in enumerate(path[:cut]):
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            pieces.append(f"{text}[{part + 1}]{_ident(node)}")
            text = ""
        elif i == 0:  # the document's section stands alone: "campaign (C1), titles.tap_the[1]"
            node = node.get(part) if isinstance(node, dict) else None
            text = str(part) + _ident(node)
            if not (i + 1 < cut and isinstance(path[i + 1], int)):
                pieces.append(text)
                text = ""
        else:
            node = node.get(part) if isinstance(node, dict) else None
            text += ("." if text else "") + str(part)
    entry = ", ".join([*pieces, text] if text else pieces)
    field = ""
    for part in path[cut:]:
        field += f"[{part + 1}]" if isinstance(part, int) else ("." if field else "") + str(part)
    ctx = err.get("ctx") or {}
    text = render_text(
        "cli/load/pydantic",
        kind=err["type"],
        ctx=ctx,
        pattern=_PATTERNS.get(str(ctx.get("pattern")), ""),
    )
    return LoadError(file, entry, field, text)
