"""What can go wrong, the exit code each problem ends with, and what the user should do about it.

Exit codes (README.md, "Exit codes"):
  0  done, or nothing to do
  1  unexpected error (a bug: please report it with the log)
  2  usage or configuration error (an option, the config file, a name given on the command line)
  3  the local data cannot be sent as it is (path not found, a name S3 or Windows cannot hold, empty)
  4  credentials missing, expired or invalid (or the PC's clock is wrong)
  5  access refused: these credentials may not write there, or the bucket does not exist
  6  network: S3 could not be reached, even after retrying
  7  S3 reported a problem, even after retrying
  8  busy: the acquisition changed while it was sent, or another uploader is sending it
  130 interrupted (Ctrl+C)
Codes 6, 7, 8 and 130 leave the journal in place: re-running the same command resumes.
"""

from __future__ import annotations

from botocore import exceptions as botocore_errors

OK = 0
INTERNAL = 1
USAGE = 2
LOCAL_DATA = 3
CREDENTIALS = 4
ACCESS = 5
NETWORK = 6
SERVER = 7
BUSY = 8
INTERRUPTED = 130

RESUME_HINT = "Re-run the same command to resume: parts already stored are not sent again."

# Error codes S3 and STS answer when the credentials themselves are the problem.
CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "InvalidToken",
    "SignatureDoesNotMatch",
    "TokenRefreshRequired",
    "UnrecognizedClientException",
    "AuthFailure",
}
ACCESS_CODES = {"AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidObjectState"}
REGION_CODES = {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
# botocore raises these itself, before or instead of a request reaching AWS.
CREDENTIAL_EXCEPTIONS: tuple[type[Exception], ...] = (
    botocore_errors.NoCredentialsError,
    botocore_errors.PartialCredentialsError,
    botocore_errors.ProfileNotFound,
    botocore_errors.CredentialRetrievalError,
    botocore_errors.SSOError,
    botocore_errors.TokenRetrievalError,
    botocore_errors.UnauthorizedSSOTokenError,
    botocore_errors.SSOTokenLoadError,
)


class UploaderError(Exception):
    """A problem the user can act on: a message, what to do, and the exit code."""

    exit_code = INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(UploaderError):
    exit_code = USAGE


class LocalDataError(UploaderError):
    exit_code = LOCAL_DATA


class CredentialsError(UploaderError):
    exit_code = CREDENTIALS


class AccessError(UploaderError):
    exit_code = ACCESS


class NetworkError(UploaderError):
    exit_code = NETWORK


class ServerError(UploaderError):
    exit_code = SERVER


class BusyError(UploaderError):
    exit_code = BUSY


class UploadGone(Exception):
    """S3 no longer knows a multipart upload (aborted, expired by a lifecycle rule, or completed)."""


def credential_hint(profile: str | None) -> str:
    if profile:
        return (
            f"Renew or fix the credentials of the AWS profile '{profile}' (for example `aws configure --profile "
            f"{profile}`, or `aws sso login --profile {profile}`), then re-run the same command."
        )
    return (
        "Set up an AWS profile for this instrument (`aws configure --profile NAME`) and pass `--profile NAME`, or "
        "set the AWS_* environment variables; then re-run the same command."
    )


def from_aws(error: Exception, *, bucket: str, prefix: str, profile: str | None, attempts: int) -> UploaderError:
    """The UploaderError for an exception raised by boto3/botocore while talking to S3.

    Credential errors never repeat AWS's message: it may carry the access key id or the string to sign.
    """
    where = f"s3://{bucket}/{prefix}"
    if isinstance(error, CREDENTIAL_EXCEPTIONS):
        return CredentialsError(f"no usable AWS credentials: {type(error).__name__}", credential_hint(profile))
    if isinstance(error, botocore_errors.SSLError):
        return NetworkError(
            f"the TLS connection to S3 failed ({type(error).__name__})",
            "Check the PC's date and time and any proxy that inspects HTTPS traffic. " + RESUME_HINT,
        )
    if isinstance(error, botocore_errors.HTTPClientError | botocore_errors.ConnectionError):
        return NetworkError(f"S3 could not be reached after {attempts} attempts ({type(error).__name__})", RESUME_HINT)
    if isinstance(error, botocore_errors.ClientError):
        return _from_client_error(error, where=where, bucket=bucket, profile=profile, attempts=attempts)
    return UploaderError(f"unexpected {type(error).__name__}: {error}", "Please report this with the log.")


def _from_client_error(
    error: botocore_errors.ClientError, *, where: str, bucket: str, profile: str | None, attempts: int
) -> UploaderError:
    details = error.response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    operation = error.operation_name
    if code == "RequestTimeTooSkewed":
        return CredentialsError(
            "S3 refused the request because the PC's clock is wrong (RequestTimeTooSkewed)",
            "Set the PC's date, time and time zone correctly (Windows: Settings > Time > Sync now), then re-run.",
        )
    if code in CREDENTIAL_CODES:
        return CredentialsError(f"S3 refused the credentials ({code})", credential_hint(profile))
    if code in ACCESS_CODES:
        return AccessError(
            f"access denied to {where} ({code} on {operation}): {details.get('Message', '')}".rstrip(": "),
            "Check --bucket and --instrument: an instrument's credentials may only write under its own "
            "incoming/<instrument>/ prefix. If they are right, ask the administrator to check the instrument's policy.",
        )
    if code == "NoSuchBucket":
        return AccessError(f"the bucket '{bucket}' does not exist (NoSuchBucket)", "Check --bucket.")
    if code in REGION_CODES:
        return UsageError(f"the bucket '{bucket}' is in another region ({code})", "Pass the bucket's --region.")
    if code == "BadDigest":
        return ServerError(
            f"S3 received data whose SHA-256 differs from the file's ({operation}): it was altered on the way",
            RESUME_HINT,
        )
    if status >= 500 or code in {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"}:
        return ServerError(f"S3 reported a problem after {attempts} attempts ({code} on {operation})", RESUME_HINT)
    message = str(details.get("Message", ""))
    return ServerError(f"S3 answered {code} to {operation}: {message}".rstrip(": "), RESUME_HINT)
