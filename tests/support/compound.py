"""Hand-built OLE2 compound files (old Word and Excel, with or without a VBA project) and a
Windows program header: what the content checks must tell apart, built byte by byte."""

from __future__ import annotations

import struct

FREE, END, FAT_SECTOR, NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(
    name: str, kind: int, left: int, right: int, child: int, start: int, size: int
) -> bytes:
    encoded = (name + "\0").encode("utf-16-le")
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", left, right, child)
        + b"\0" * 16  # CLSID
        + b"\0" * 4  # state bits
        + b"\0" * 16  # creation and modification times
        + struct.pack("<IQ", start, size)
    )


def ole(streams: list[str], *, nested: tuple[str, ...] = (), storage: str = "ObjectPool") -> bytes:
    """A minimal CFB v3 file: the given streams under the root, `nested` inside a storage.

    Sector 0 is the FAT, sectors 1-2 the directory, sectors 3-10 one 4096-byte stream that
    every stream entry points at (each entry's content is irrelevant to sniffing).
    """
    entries = [("Root Entry", 5)] + [(s, 2) for s in streams]
    storage_id = None
    if nested:
        storage_id = len(entries)
        entries.append((storage, 1))
    nested_ids = list(range(len(entries), len(entries) + len(nested)))
    entries += [(s, 2) for s in nested]
    root_children = list(range(1, 1 + len(streams))) + ([storage_id] if storage_id else [])

    def chain(ids: list[int]) -> dict[int, int]:
        # A degenerate (all-right) tree: each sibling's right points to the next one.
        return dict(zip(ids, [*ids[1:], NONE], strict=False))

    right = chain(root_children) | chain(nested_ids)
    directory = b""
    for i, (name, kind) in enumerate(entries):
        if kind == 5:
            directory += _dir_entry(name, 5, NONE, NONE, root_children[0], END, 0)
        elif kind == 1:
            directory += _dir_entry(name, 1, NONE, right[i], nested_ids[0], END, 0)
        else:
            directory += _dir_entry(name, 2, NONE, right.get(i, NONE), NONE, 3, 4096)
    assert len(directory) <= 1024
    directory = directory.ljust(1024, b"\0")
    for unused in range(len(directory) // 128):
        start = unused * 128
        if directory[start : start + 128] == b"\0" * 128:
            blank = _dir_entry("", 0, NONE, NONE, NONE, 0, 0)
            directory = directory[:start] + blank + directory[start + 128 :]

    # FAT, then the directory chain 1 -> 2, then the stream chain 3 -> ... -> 10.
    fat = [FAT_SECTOR, 2, END, 4, 5, 6, 7, 8, 9, 10, END]
    fat_sector = struct.pack(f"<{len(fat)}I", *fat).ljust(512, b"\xff")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
        + struct.pack("<I", 0)  # DIFAT[0]: the FAT is sector 0
        + b"\xff" * (4 * 108)
    )
    assert len(header) == 512
    return header + fat_sector + directory + b"\x42" * 4096


def exe() -> bytes:
    """The DOS and PE headers every Windows program starts with."""
    dos = bytearray(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00")
    dos = dos.ljust(0x3C, b"\0") + struct.pack("<I", 0x80)
    dos = dos.ljust(0x80, b"\0")
    pe = b"PE\0\0" + struct.pack("<HHIIIHH", 0x14C, 1, 0, 0, 0, 0xE0, 0x102)
    return bytes(dos) + pe + b"\0" * 400
