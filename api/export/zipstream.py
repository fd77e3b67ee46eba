"""A zip archive written to memory in small pieces, drained by the caller while it is being built.

``zipfile`` writes data descriptors on a non-seekable sink, so nothing is ever held whole in memory.
"""

from __future__ import annotations

import zipfile
from typing import IO, Any


class _Sink:
    """Write-only, tell-able, non-seekable buffer that ``zipfile`` writes into."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def write(self, data: bytes) -> int:
        if data:
            self._parts.append(bytes(data))
            self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        return None

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


class ZipStream:
    """Build a zip incrementally: open an entry, write to it, and ``drain()`` the bytes produced so far."""

    def __init__(self) -> None:
        self._sink = _Sink()
        sink: Any = self._sink
        self._zip = zipfile.ZipFile(sink, mode="w", allowZip64=True)
        self.names: list[str] = []

    def open(self, name: str, *, compress: bool = True) -> IO[bytes]:
        """A writable entry; close it before opening the next one."""
        info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        self.names.append(name)
        entry: IO[bytes] = self._zip.open(info, mode="w", force_zip64=True)
        return entry

    def write_bytes(self, name: str, data: bytes, *, compress: bool = True) -> None:
        with self.open(name, compress=compress) as entry:
            entry.write(data)

    def drain(self) -> bytes:
        """Bytes of the archive produced since the last drain."""
        return self._sink.drain()

    def close(self) -> bytes:
        """Finish the archive (central directory) and return the last bytes."""
        self._zip.close()
        return self._sink.drain()
