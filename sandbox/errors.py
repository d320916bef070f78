"""AWS-shaped errors raised by the sandbox's own backends."""

from __future__ import annotations


class AwsError(Exception):
    """An error the service itself would return: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400, extra: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        # Further members of the service's error shape (DataSync's InvalidRequestException: errorCode).
        self.extra = dict(extra or {})


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message)


def in_use(message: str) -> AwsError:
    return AwsError("ResourceInUseException", message)


def already_exists(message: str) -> AwsError:
    return AwsError("ResourceAlreadyExistsException", message)


def invalid_combination(message: str) -> AwsError:
    return AwsError("InvalidParameterCombinationException", message)


def not_permitted(message: str) -> AwsError:
    return AwsError("OperationNotPermittedException", message)
