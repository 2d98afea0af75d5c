"""Shared table I/O below the command line and the layers that use it (store, bench).

- :func:`scan_population`: a population file (Parquet or CSV of flat dossier rows with
  ``household_id``) as a Polars LazyFrame, with a one-line error naming the file;
- :func:`write_parquet_atomic`: stream frames into a Parquet file through a temporary file
  renamed at the end (never a half-written output).

Nothing here prints: progress is reported through a callback (the CLI draws the bar).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl

from profilage.errors import ProfilageError


def scan_population(path: Path) -> pl.LazyFrame:
    """A population (Parquet or CSV of flat dossier rows) as a Polars LazyFrame."""
    path = Path(path)
    if not path.is_file():
        raise ProfilageError("file not found", source=str(path))
    try:
        if path.suffix.lower() == ".csv":
            lf = pl.scan_csv(path, infer_schema_length=10_000, glob=False)
        else:
            lf = pl.scan_parquet(path, glob=False)  # names are literal, never patterns
        names = lf.collect_schema().names()
    except Exception as e:  # polars raises several types for unreadable files
        raise ProfilageError(f"cannot read table: {str(e).splitlines()[0]}", source=str(path)
                             ) from None
    if "household_id" not in names:
        raise ProfilageError("column missing from the population", field="household_id",
                             source=str(path))
    return lf


def write_parquet_atomic(chunks: Iterable[pl.DataFrame], out: Path, *,
                         on_rows: Callable[[int], None] | None = None) -> int:
    """Stream frames into ``out`` through a temporary file renamed at the end; rows written.
    ``on_rows(n)`` is called after each frame with its number of rows."""
    import pyarrow.parquet as pq

    out = Path(out)
    if out.exists() and out.is_dir():
        raise ProfilageError("is a directory, expected a .parquet file path", field="--out",
                             source=str(out))
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise ProfilageError(f"folder {parent} does not exist", field="--out", source=str(out))
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent)
    os.close(fd)
    rows = 0
    writer = None
    try:
        for df in chunks:
            table = df.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd",
                                          compression_level=1)
            writer.write_table(table)
            rows += df.height
            if on_rows:
                on_rows(df.height)
        if writer is None:
            raise ProfilageError("no rows to write", field="--households")
        writer.close()
        writer = None
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, out)
    finally:
        if writer is not None:
            writer.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
    return rows
