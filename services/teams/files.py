"""Attachment storage: multipart uploads streamed to disk with the size limit enforced while reading,
content types sniffed from the bytes, downloads with the original name.

Files live under ``TEAMMOA_FILES_DIR`` (default ``<data dir>/files``) as ``<team id>/<random key>``;
uploads are written to ``tmp/`` first and moved into place only when accepted. A shared volume (or
one storage host) makes them visible to every instance.
"""

from __future__ import annotations

import secrets
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import quote

import anyio.to_thread
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import Request

from services.kit.errors import InvalidInput, PayloadTooLarge

MAX_FILE_BYTES = 20 * 1024 * 1024  # per attachment
MAX_FILES_PER_POST = 5
PART_OVERHEAD_BYTES = 16 * 1024  # boundaries and part headers allowed on top of the file bytes
FLUSH_BYTES = 1024 * 1024  # write to disk in 1 MB batches, off the event loop
SNIFF_BYTES = 512
MAX_NAME_CHARS = 255
OCTET_STREAM = "application/octet-stream"

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"), (b"%PDF-", "application/pdf"), (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"), (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"), (b"ID3", "audio/mpeg"), (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"), (b"\x1aE\xdf\xa3", "video/webm"),
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
        text = head[:exc.start].decode("utf-8")
    return not any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text)


def clean_name(raw: str) -> str:
    """A safe display name: no directories, no control characters, at most 255 characters."""
    name = PurePosixPath(raw.replace("\\", "/")).name
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME_CHARS - len(ext) - 1] + "." + ext) if dot and len(ext) < 16 else name[:MAX_NAME_CHARS]
    return name if name not in ("", ".", "..") else "file"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name in RFC 5987 ``filename*``."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class Storage:
    """Where a team's files live on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

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


@dataclass
class Upload:
    """One received file, still in its temporary place."""

    name: str
    temp: Path
    size: int = 0
    head: bytes = b""
    handle: BinaryIO | None = field(default=None, repr=False)
    pending: bytearray = field(default_factory=bytearray, repr=False)
    ended: bool = False  # the parser saw the end of the part
    closed: bool = False  # every byte is on disk

    @property
    def content_type(self) -> str:
        return sniff(self.head)


async def receive(request: Request, *, storage: Storage, max_files: int) -> list[Upload]:
    """Stream the multipart ``file`` parts of a request to temporary files.

    Each file is cut off with 413 as soon as it passes ``MAX_FILE_BYTES``; nothing larger than a
    read chunk plus one flush batch is held in memory. On any error the temporary files are removed.
    """
    boundary = _boundary(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_files * (MAX_FILE_BYTES + PART_OVERHEAD_BYTES):
        raise PayloadTooLarge(f"Each file may be at most {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    reader = _Reader(storage)
    parser = MultipartParser(boundary, reader.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            await reader.drain()
        if parser.state != MultipartState.END:
            raise _malformed()
    except ValueError:  # the parser's errors
        await reader.discard()
        raise _malformed() from None
    except BaseException:
        await reader.discard()
        raise
    if not reader.uploads:
        raise InvalidInput.field("file", "Attach a file in the multipart field 'file'.")
    return reader.uploads


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary", b"")
    if content_type != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise InvalidInput.field("file", "Send the file as multipart/form-data in the field 'file'.")
    return boundary


def _malformed() -> InvalidInput:
    return InvalidInput.field("file", "The multipart body is malformed.")


class _Reader:
    """Collects parser callbacks, then does the (async) file work between chunks."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.uploads: list[Upload] = []
        self.current: Upload | None = None
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._field, "on_header_value": self._value,
                "on_header_end": self._header_end, "on_headers_finished": self._headers_done,
                "on_part_data": self._data, "on_part_end": self._end}

    def _begin(self) -> None:
        self.headers, self.current = {}, None

    def _field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def _value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field, self.header_value = bytearray(), bytearray()

    def _headers_done(self) -> None:
        try:
            _, options = parse_options_header(self.headers.get(b"content-disposition", b"").decode("latin-1"))
            name = options.get(b"name", b"").decode("utf-8")
            filename = options.get(b"filename")
            display = filename.decode("utf-8", errors="replace") if filename is not None else None
        except (UnicodeError, ValueError):
            raise ValueError("bad part headers") from None
        if name == "file" and display is not None:
            self.current = Upload(name=clean_name(display), temp=self.storage.new_temp())
            self.uploads.append(self.current)

    def _data(self, data: bytes, start: int, end: int) -> None:
        upload = self.current
        if upload is None:
            return  # other fields are ignored
        upload.size += end - start
        if upload.size > MAX_FILE_BYTES:
            raise PayloadTooLarge(f"Each file may be at most {MAX_FILE_BYTES // (1024 * 1024)} MB.")
        if len(upload.head) < SNIFF_BYTES:
            upload.head += data[start:start + SNIFF_BYTES - len(upload.head)]
        upload.pending += data[start:end]

    def _end(self) -> None:
        if self.current is not None:
            self.current.ended = True
        self.current = None

    async def drain(self) -> None:
        """Write what the last chunk produced: full batches, and the rest of ended parts."""
        for upload in self.uploads:
            if upload.closed:
                continue
            if len(upload.pending) >= FLUSH_BYTES or upload.ended:
                await anyio.to_thread.run_sync(_write, upload)
            if upload.ended and upload.handle is not None:
                upload.handle.close()
                upload.handle, upload.closed = None, True

    async def discard(self) -> None:
        for upload in self.uploads:
            if upload.handle is not None:
                upload.handle.close()
        await self.storage.remove([upload.temp for upload in self.uploads])


def _write(upload: Upload) -> None:
    if upload.handle is None:
        upload.handle = open(upload.temp, "wb")  # noqa: SIM115 - closed by the reader when the part ends
    upload.handle.write(upload.pending)
    upload.pending.clear()
