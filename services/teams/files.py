"""Attachment storage on disk, content types sniffed from the bytes, safe names and download headers.

Files live under ``TEAMMOA_FILES_DIR`` (default ``<data dir>/files``) as ``<team id>/<random key>``;
uploads are written to ``tmp/`` first (``uploads.py``) and moved into place only when accepted. A
shared volume (or one storage host) makes them visible to every instance.
"""

from __future__ import annotations

import secrets
import shutil
import unicodedata
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import anyio.to_thread

MAX_FILE_BYTES = 20 * 1024 * 1024  # per attachment
MAX_FILES_PER_POST = 5
DEFAULT_TEAM_QUOTA_BYTES = 1024 * 1024 * 1024  # TEAMMOA_TEAM_STORAGE_QUOTA_MB, per team
SNIFF_BYTES = 512  # enough for every signature below
MAX_NAME_CHARS = 255
OCTET_STREAM = "application/octet-stream"

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"\x1aE\xdf\xa3", "video/webm"),
)
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_FTYP = {b"qt  ": "video/quicktime", b"heic": "image/heic", b"avif": "image/avif", b"M4A ": "audio/mp4"}


def sniff(head: bytes) -> str:
    """The content type of a file from its first bytes; never trusts the client's claim."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return _FTYP.get(head[8:12], "video/mp4")
    if head and _is_text(head):
        return "text/plain; charset=utf-8"
    return OCTET_STREAM


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # only a character cut at the end of the sample is forgiven
            return False
        text = head[: exc.start].decode("utf-8")
    return not any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text)


def clean_name(raw: str) -> str:
    """A safe display name: no directories, no control characters, at most 255 characters."""
    name = PurePosixPath(raw.replace("\\", "/")).name
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME_CHARS - len(ext) - 1] + "." + ext) if dot and len(ext) < 16 else name[:MAX_NAME_CHARS]
    return name if name not in ("", ".", "..") else "file"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name in RFC 5987 ``filename*``."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class Storage:
    """Where a team's files live on disk."""

    def __init__(self, root: Path, quota_bytes: int = DEFAULT_TEAM_QUOTA_BYTES) -> None:
        self.root = root
        self.quota_bytes = quota_bytes  # per team: the sum of its attachments' sizes

    def path(self, team_id: int, key: str) -> Path:
        return self.root / str(team_id) / key

    def new_temp(self) -> Path:
        folder = self.root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / (secrets.token_hex(16) + ".part")

    async def keep(self, temp: Path, team_id: int) -> str:
        """Move an accepted upload into the team's folder; return its storage key."""
        key = secrets.token_hex(16)
        target = self.path(team_id, key)

        def move() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            temp.replace(target)

        await anyio.to_thread.run_sync(move)
        return key

    async def remove(self, paths: list[Path]) -> None:
        def unlink() -> None:
            for path in paths:
                path.unlink(missing_ok=True)

        await anyio.to_thread.run_sync(unlink)

    async def remove_team(self, team_id: int) -> None:
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(self.root / str(team_id), ignore_errors=True))
