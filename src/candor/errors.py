"""Domain errors. Each class knows its Rekognition error code and HTTP status; one place in the
wire layer turns them into ``{"__type": code, "message": ...}``."""

from __future__ import annotations


class CandorError(Exception):
    """Base of every error Candor raises on purpose."""


class ConfigurationError(CandorError):
    """A setting or a model file is wrong; raised at start-up, never per request."""


class ServiceError(CandorError):
    """An error the caller caused or should see, with its Rekognition code."""

    code = "InternalServerError"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ClientInputError(ServiceError):
    status = 400


class InvalidParameterException(ClientInputError):
    code = "InvalidParameterException"


class ValidationException(ClientInputError):
    code = "ValidationException"


class InvalidImageFormatException(ClientInputError):
    code = "InvalidImageFormatException"


class ImageTooLargeException(ClientInputError):
    code = "ImageTooLargeException"


class VideoTooLargeException(ClientInputError):
    code = "VideoTooLargeException"


class InvalidS3ObjectException(ClientInputError):
    code = "InvalidS3ObjectException"


class ResourceNotFoundException(ClientInputError):
    code = "ResourceNotFoundException"


class AccessDeniedException(ClientInputError):
    code = "AccessDeniedException"


class InternalServerError(ServiceError):
    code = "InternalServerError"
    status = 500


class ResourceAlreadyExistsException(ClientInputError):
    code = "ResourceAlreadyExistsException"


class InvalidPaginationTokenException(ClientInputError):
    code = "InvalidPaginationTokenException"


class ServiceQuotaExceededException(ClientInputError):
    code = "ServiceQuotaExceededException"


class ConflictException(ClientInputError):
    code = "ConflictException"


class IdempotentParameterMismatchException(ClientInputError):
    code = "IdempotentParameterMismatchException"
