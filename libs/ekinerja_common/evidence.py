"""Evidence files (bukti kegiatan, bukti cuti, bukti keberatan): what is accepted, and where the
bytes live. Shared by activity and approval, so an employee meets one rule everywhere.

The bytes stay out of the database, in a directory of the service's own, each under a random
name: nothing the uploader chose (name, extension, claimed type) reaches the file system or the
``Content-Type`` served. Accepted: PDF, JPEG, PNG, judged by content (and the extension must
agree), at most ``max_bytes`` (default 5 MiB).
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

from ekinerja_common.errors import DomainError, Text, ValidationFailed

DEFAULT_MAX_BYTES = 5 * 1024 * 1024

# The type is decided by the first bytes, never by the name or the browser's claim.
MAGIC = (
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
)
ALLOWED = "PDF, JPEG, PNG"


def sniff(head: bytes) -> str | None:
    for magic, content_type, _ in MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def check_upload(filename: str, data: bytes, max_bytes: int) -> str:
    """The content type of an acceptable upload, or the reason it is refused."""
    if len(data) > max_bytes:
        mb = max_bytes / (1024 * 1024)
        raise DomainError("evidence_too_large",
                          Text(f"Berkas bukti maksimal {mb:g} MB", f"An evidence file may be at most {mb:g} MB"),
                          {"file": Text("Berkas terlalu besar", "File too large")}, status=413)
    if not data:
        raise ValidationFailed({"file": Text("Berkas kosong", "The file is empty")})
    content_type = sniff(data[:16])
    if content_type is None:
        raise ValidationFailed({"file": Text(f"Jenis berkas tidak diizinkan; hanya {ALLOWED}",
                                             f"File type not allowed; only {ALLOWED}")}, "evidence_type")
    ext = os.path.splitext(filename.lower())[1]
    if ext not in next(exts for _, ct, exts in MAGIC if ct == content_type):
        # A PNG named .pdf is not what its sender thinks it is: refuse rather than guess.
        raise ValidationFailed({"file": Text(f"Isi berkas ({content_type}) tidak sesuai dengan ekstensinya ({ext or 'tanpa ekstensi'})",
                                             f"The file's content ({content_type}) does not match its extension ({ext or 'none'})")},
                               "evidence_type")
    return content_type


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def display_name(filename: str) -> str:
    """The uploader's name for the file, reduced to harmless characters for Content-Disposition."""
    base = os.path.basename(filename.replace("\\", "/")).strip() or "bukti"
    return _UNSAFE.sub("_", base)[:120]


@dataclass(frozen=True)
class Stored:
    id: str
    size: int
    sha256: str


class EvidenceStore:
    """Files under one directory, named by a random id. Writes go to a temporary file first and
    are renamed into place, so a reader never sees half a file."""

    def __init__(self, root: str, max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = root
        self.max_bytes = max_bytes


    def path(self, evidence_id: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{32}", evidence_id):
            raise ValueError("bad evidence id")
        return os.path.join(self.root, evidence_id[:2], evidence_id)

    def save(self, data: bytes) -> Stored:
        evidence_id = secrets.token_hex(16)
        final = self.path(evidence_id)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(final), prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return Stored(evidence_id, len(data), hashlib.sha256(data).hexdigest())

    def open(self, evidence_id: str) -> BinaryIO:
        return open(self.path(evidence_id), "rb")

    def delete(self, evidence_id: str) -> None:
        try:
            os.unlink(self.path(evidence_id))
        except FileNotFoundError:
            pass
