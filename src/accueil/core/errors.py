"""One error type for the whole domain layer, turned into the API's single error shape.

``code`` is stable (clients branch on it); the message is looked up in French or English from
``core.i18n`` with ``details`` filled in, so the same error reads right in both languages.
"""

from __future__ import annotations

from typing import Any

from accueil.core.i18n import error_message


class AccueilError(Exception):
    status_code = 400

    def __init__(self, code: str, status_code: int | None = None, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details
        if status_code is not None:
            self.status_code = status_code

    def __str__(self) -> str:
        return error_message(self.code, "en", self.details)


class ValidationFailed(AccueilError):
    status_code = 422


class NotFound(AccueilError):
    status_code = 404


class Conflict(AccueilError):
    status_code = 409


class PermissionDenied(AccueilError):
    status_code = 403


class Unauthenticated(AccueilError):
    status_code = 401
