"""Reading gzip inputs as a stream with a cap on what they inflate to.

A few kilobytes of gzip can inflate to gigabytes; the reader counts the bytes it hands out and
stops with a ContractError at the cap on decompressed bytes, or as soon as the inflation ratio shows
a bomb (after the first 16 MB, so a small repetitive file is not refused). Nothing is inflated
ahead of the reader: memory stays at what the reader itself keeps.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import IO

from core import config
from core.errors import ContractError

# Below this many inflated bytes the ratio is not judged.
RATIO_FLOOR_BYTES = 16 * 1024 * 1024
_CHUNK_BYTES = 1 << 20


class DecompressedTooLarge(ContractError):
    """A compressed input inflates past its cap."""


class CappedGzip(io.RawIOBase):
    """The decompressed bytes of a gzip file, refused past the cap (see the module)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.compressed_bytes = max(path.stat().st_size, 1)
        self.limit = config.max_decompressed_bytes()
        self.max_ratio = config.max_gzip_ratio()
        self.inner = gzip.GzipFile(path, "rb")
        self.seen = 0

    def readable(self) -> bool:
        """A stream to read."""
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill the buffer with the next decompressed bytes, counting them against the cap."""
        # At most a chunk at a time, whatever the caller asks for: a read of "everything" would
        # otherwise inflate the whole bomb before the first check.
        data = self.inner.read(min(len(buffer), _CHUNK_BYTES))
        self.seen += len(data)
        self._check()
        buffer[: len(data)] = data
        return len(data)

    def _check(self) -> None:
        megabytes = self.limit / (1024 * 1024)
        if self.seen > self.limit:
            raise DecompressedTooLarge(
                f"{self.path}: the gzip stream inflates to more than {megabytes:g} MB; split the file, "
                "or raise JOURNEYOPS_MAX_DECOMPRESSED_MB if it is genuine"
            )
        ratio = self.seen / self.compressed_bytes
        if self.seen > RATIO_FLOOR_BYTES and ratio > self.max_ratio:
            raise DecompressedTooLarge(
                f"{self.path}: the gzip stream inflates more than {self.max_ratio:g} times its "
                f"{self.compressed_bytes:,} bytes (a compression bomb?); split the file, or raise "
                "JOURNEYOPS_MAX_GZIP_RATIO if it is genuine"
            )

    def close(self) -> None:
        """Close the gzip file too."""
        self.inner.close()
        super().close()


def is_gzip(path: Path) -> bool:
    """Whether the file starts with gzip's magic bytes (whatever its name says)."""
    with path.open("rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def open_capped(path: Path) -> IO[bytes]:
    """A buffered binary stream of the file's bytes, decompressed (and capped) if it is gzip."""
    if is_gzip(path):
        return io.BufferedReader(CappedGzip(path), buffer_size=1 << 20)
    return path.open("rb")


def check_inflated_size(path: Path) -> None:
    """Inflate a gzip file once as a stream, counting against the caps, and keep nothing: memory stays
    flat, and a bomb raises DecompressedTooLarge here, in Python, before a reader sees the file."""
    with open_capped(path) as stream:
        while stream.read(_CHUNK_BYTES):
            pass
