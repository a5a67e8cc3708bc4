"""The replicator's DynamoDB client for the target table, and the writer role it acts as.

assume-role mode (:data:`ASSUME_ROLE`): the first call assumes ``WRITER_ROLE_ARN`` once with the
execution role's credentials; the client holds botocore ``RefreshableCredentials`` that assume
it again shortly before they expire (:data:`REFRESH_ADVISORY_SECONDS`,
:data:`REFRESH_MANDATORY_SECONDS`), and at once when DynamoDB answers that they have expired
(``ExpiredTokenException``: a session revoked, or a clock off): the error is then marked
(:data:`.retry.CREDENTIALS_REFRESHED`) and retried with the new credentials, never with the
expired ones. resource-policy mode (:data:`RESOURCE_POLICY`): the execution
role's own credentials. Either client is cached per execution environment (:mod:`.clients`).
"""

from __future__ import annotations

import datetime
from typing import Any, Protocol

from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    RefreshableCredentials,
)
from botocore.utils import parse_timestamp

from . import clients, environment, telemetry, write_requests
from .exceptions import ConfigError
from .retry import CREDENTIALS_REFRESHED, EXPIRED_CREDENTIAL_CODES

ASSUME_ROLE = "assume-role"
RESOURCE_POLICY = "resource-policy"
#: Role chaining (a Lambda role assuming another role) caps sessions at one hour.
MAX_CHAINED_SESSION_SECONDS = 3600
#: Assumed-role credentials are refreshed when less than this is left (botocore refreshes them
#: in the background from 5 minutes and blocks from 2 minutes before expiry).
REFRESH_ADVISORY_SECONDS = 5 * 60
REFRESH_MANDATORY_SECONDS = 2 * 60
#: After a refresh forced by an expired-token error, more such errors within this many seconds
#: (calls signed with the old credentials, in flight on other threads) don't assume the role
#: again.
FORCED_REFRESH_DEBOUNCE_SECONDS = 5.0


class WriterSettings(Protocol):
    """What the writer client is built from (the replicator's config has these fields)."""

    @property
    def access_mode(self) -> str: ...  # ASSUME_ROLE or RESOURCE_POLICY
    @property
    def region(self) -> str | None: ...  # the target table's region
    @property
    def role_arn(self) -> str | None: ...  # the writer role (assume-role mode)
    @property
    def session_name(self) -> str: ...
    @property
    def external_id(self) -> str | None: ...
    @property
    def session_seconds(self) -> int: ...  # AssumeRole DurationSeconds, 900..3600
    @property
    def concurrency(self) -> int: ...  # connections in the client's pool


class _AssumedRoleProvider(CredentialProvider):
    """Hands botocore the refreshable assumed-role credentials."""

    METHOD = "assume-role"
    CANONICAL_NAME = "stream-replica-writer-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


class _WriterCredentials(RefreshableCredentials):
    """The assumed-role credentials, which can also be refreshed on demand."""

    _forced_at: datetime.datetime | None = None

    def refresh_now(self) -> None:
        """Assume the role again now, whatever the expiry time says (DynamoDB said the token
        has expired); once per :data:`FORCED_REFRESH_DEBOUNCE_SECONDS` for concurrent
        callers. Raises the STS error when AssumeRole fails."""
        with self._refresh_lock:
            now = _now()
            recent = self._forced_at is not None and (
                (now - self._forced_at).total_seconds() < FORCED_REFRESH_DEBOUNCE_SECONDS
            )
            if not recent:
                self._protected_refresh(is_mandatory=True)
                self._forced_at = now


def _refresh_on_expired_token(credentials: _WriterCredentials) -> Any:
    """An ``after-call`` hook: on an expired-token error, assume the role again and mark the
    error retryable (:data:`.retry.CREDENTIALS_REFRESHED`). A failing AssumeRole leaves the
    error unmarked: it is not retried, and the batch is reported for retry."""

    def hook(parsed: Any = None, **_: Any) -> None:
        error = parsed.get("Error") if isinstance(parsed, dict) else None
        code = error.get("Code") if isinstance(error, dict) else None
        if code not in EXPIRED_CREDENTIAL_CODES:
            return
        try:
            credentials.refresh_now()
        except Exception as exc:  # any failure: the call is not retried
            telemetry.get_logger("replicator").error(
                "the writer role's credentials expired and assuming it again failed",
                extra={"error_code": code, "error": str(exc)},
            )
            return
        telemetry.get_logger("replicator").warning(
            "the writer role's credentials expired mid-invocation: assumed it again, retrying",
            extra={"error_code": code},
        )
        parsed[CREDENTIALS_REFRESHED] = True

    return hook


def _now() -> datetime.datetime:
    """The clock the credential refresh reads (a module function, so tests can move time)."""
    return datetime.datetime.now(datetime.UTC)


class _NoCache(dict[str, Any]):
    """The fetcher's cache, always empty: the refreshable credentials are the only cache, so a
    refresh they ask for always reaches STS."""

    def __contains__(self, key: object) -> bool:
        return False

    def __setitem__(self, key: str, value: Any) -> None:
        return None


def _assume_writer_role(config: WriterSettings) -> _WriterCredentials:
    """AssumeRole once (now) and return credentials that botocore refreshes by calling it again
    shortly before they expire; the source credentials are the execution role's (from env)."""
    source = clients.new_botocore_session()
    source_credentials = source.get_credentials()
    if source_credentials is None:
        raise ConfigError("no AWS credentials in the environment to call AssumeRole with")
    region = environment.own_region() or config.region

    def sts_client(service: str, **kwargs: Any) -> Any:
        # AssumeRole runs about once an hour: botocore's standard retries (3 attempts) are
        # cheaper than failing the batch on a throttled or dropped STS call.
        config = clients.client_config().merge(Config(retries={"mode": "standard"}))
        client = source.create_client(service, region_name=region, config=config, **kwargs)
        return clients.apply_hooks(client)

    extra: dict[str, Any] = {
        "RoleSessionName": config.session_name,
        "DurationSeconds": config.session_seconds,
    }
    if config.external_id:
        extra["ExternalId"] = config.external_id
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=sts_client,
        source_credentials=source_credentials,
        role_arn=config.role_arn,
        extra_args=extra,
        cache=_NoCache(),
    )
    first = fetcher.fetch_credentials()  # the AssumeRole call; raises if STS refuses
    return _WriterCredentials(
        access_key=first["access_key"],
        secret_key=first["secret_key"],
        token=first["token"],
        expiry_time=parse_timestamp(first["expiry_time"]),
        refresh_using=fetcher.fetch_credentials,
        method=_AssumedRoleProvider.METHOD,
        time_fetcher=lambda: _now(),
        advisory_timeout=REFRESH_ADVISORY_SECONDS,
        mandatory_timeout=REFRESH_MANDATORY_SECONDS,
    )


def writer_client(config: WriterSettings) -> Any:
    """The DynamoDB client that writes the target table, cached per execution environment.

    assume-role mode: its credentials come from one AssumeRole of ``WRITER_ROLE_ARN`` (refreshed
    by botocore before expiry). resource-policy mode: the execution role's own credentials.
    Raises the STS error if AssumeRole fails (nothing is cached then; the next call tries again).
    """
    if config.access_mode == RESOURCE_POLICY:
        client = clients.own_client("dynamodb", region=config.region, pool=config.concurrency)
        return write_requests.install(client)

    def factory() -> Any:
        credentials = _assume_writer_role(config)
        target = clients.new_botocore_session()
        target.register_component(
            "credential_provider", CredentialResolver([_AssumedRoleProvider(credentials)])
        )
        client = target.create_client(
            "dynamodb",
            region_name=config.region,
            config=clients.client_config(config.concurrency),
        )
        client.meta.events.register("after-call.dynamodb", _refresh_on_expired_token(credentials))
        return write_requests.install(client)

    key = (
        "writer",
        config.role_arn,
        config.session_name,
        config.external_id,
        config.session_seconds,
        config.region,
        config.concurrency,
    )
    return clients.cached_client(key, factory)
