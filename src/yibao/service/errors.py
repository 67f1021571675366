"""Business errors the API turns into `infcode -1` answers or HTTP statuses."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the bureau refuses; `message` is safe to show the caller."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409
