"""Errors a user can act on: each names what is wrong and where (file, field path)."""

from __future__ import annotations


class ProfilageError(Exception):
    """An error caused by the user's input, shown as one line without a traceback."""

    def __init__(self, message: str, *, field: str | None = None, source: str | None = None):
        self.message = message
        self.field = field
        self.source = source
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.field:
            where.append(self.field)
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ModelFileError(ProfilageError):
    """A model file is invalid; ``problems`` lists every problem found, not just the first."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s): " + "; ".join(problems), source=source
        )


class DossierError(ProfilageError):
    """A dossier (one household) is invalid; ``field`` is the JSON path of the first problem,
    ``kind`` and ``ctx`` its kind (pydantic's error type or ours) and limits, for translation."""

    def __init__(self, message: str, *, field: str | None = None, source: str | None = None,
                 kind: str | None = None, ctx: dict | None = None):
        self.kind, self.ctx = kind, ctx
        super().__init__(message, field=field, source=source)
