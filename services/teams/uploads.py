"""Multipart uploads streamed to temporary files, each cut off with 413 as soon as it passes the limit.

Nothing larger than one read chunk plus one flush batch is held in memory; on any error every
temporary file of the request is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import anyio.to_thread
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import Request

from services.kit.bodies import allow_body
from services.kit.errors import Conflict, InvalidInput, PayloadTooLarge

from .files import MAX_FILE_BYTES, SNIFF_BYTES, Storage, clean_name, sniff

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks  # a TypedDict declared for type checkers only

PART_OVERHEAD_BYTES = 16 * 1024  # boundaries and part headers allowed on top of the file bytes
FLUSH_BYTES = 1024 * 1024  # write to disk in 1 MB batches, off the event loop


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


async def receive(request: Request, *, storage: Storage, max_files: int, max_total: int | None = None) -> list[Upload]:
    """Stream the multipart ``file`` parts of a request to temporary files: at most ``max_files`` files
    (refused before the next part is written), each at most MAX_FILE_BYTES, together at most ``max_total``."""
    boundary = _boundary(request)
    limit = max_files * (MAX_FILE_BYTES + PART_OVERHEAD_BYTES)
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Each file may be at most {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    allow_body(request, limit)  # kit.bodies counts the stream against this
    reader = _Reader(storage, max_files, max_total)
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


class QuotaExceeded(PayloadTooLarge):
    code, message = "storage_quota_exceeded", "The team's file storage is full. Delete files to make room."


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

    def __init__(self, storage: Storage, max_files: int, max_total: int | None) -> None:
        self.storage, self.max_files, self.max_total = storage, max_files, max_total
        self.total = 0
        self.uploads: list[Upload] = []
        self.current: Upload | None = None
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._field,
            "on_header_value": self._value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

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
            if len(self.uploads) >= self.max_files:  # before anything of this part is written
                raise Conflict(f"At most {self.max_files} more files fit.", code="too_many_files")
            self.current = Upload(name=clean_name(display), temp=self.storage.new_temp())
            self.uploads.append(self.current)

    def _data(self, data: bytes, start: int, end: int) -> None:
        upload = self.current
        if upload is None:
            return  # other fields are ignored
        upload.size += end - start
        self.total += end - start
        if upload.size > MAX_FILE_BYTES:
            raise PayloadTooLarge(f"Each file may be at most {MAX_FILE_BYTES // (1024 * 1024)} MB.")
        if self.max_total is not None and self.total > self.max_total:
            raise QuotaExceeded()
        if len(upload.head) < SNIFF_BYTES:
            upload.head += data[start : start + SNIFF_BYTES - len(upload.head)]
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
