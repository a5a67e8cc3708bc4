"""Turn a Pulumi archive (the ``code`` of a Lambda function) into the zip Lambda would receive."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pulumi

# A fixed timestamp makes the zip (and so CodeSha256) depend on the content only.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _walk_archive(archive: object, prefix: str) -> Iterator[tuple[str, bytes]]:
    if isinstance(archive, pulumi.AssetArchive):
        for name, member in sorted(archive.assets.items()):
            path = f"{prefix}{name}"
            if isinstance(member, pulumi.Archive):
                yield from _walk_archive(member, f"{path.rstrip('/')}/")
            else:
                yield path, _asset_bytes(member, path)
    elif isinstance(archive, pulumi.FileArchive):
        source = Path(archive.path)
        if source.is_dir():
            for file in sorted(source.rglob("*")):
                if file.is_file() and "__pycache__" not in file.parts:
                    yield f"{prefix}{file.relative_to(source).as_posix()}", file.read_bytes()
        elif zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as inner:
                for info in inner.infolist():
                    if not info.is_dir():
                        yield f"{prefix}{info.filename}", inner.read(info)
        else:
            raise ValueError(f"FileArchive {source}: neither a folder nor a zip file")
    else:
        raise ValueError(
            f"the sandbox cannot read a Lambda code archive of type {type(archive).__name__}"
        )


def _asset_bytes(asset: object, path: str) -> bytes:
    if isinstance(asset, pulumi.StringAsset):
        return asset.text.encode()
    if isinstance(asset, pulumi.FileAsset):
        return Path(asset.path).read_bytes()
    raise ValueError(f"asset {path}: the sandbox cannot read a {type(asset).__name__}")


def archive_to_zip(archive: object) -> bytes:
    """The deployment package of ``archive`` as zip bytes (deterministic for the same files)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in _walk_archive(archive, ""):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, data)
    return buffer.getvalue()
