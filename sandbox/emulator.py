"""The emulated AWS: moto in this process, or moto's server on localhost (``--serve``).

Two accounts live in one moto: moto files every request under the account of the credentials
that signed it, and credentials returned by ``sts:AssumeRole`` for a role ARN in another 12-digit
account belong to that account. So the sandbox acts in an account by assuming a role there, as a
real deployment pipeline would.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from .firehose import real_key_layout

#: Environment every emulated call needs. Fake credentials keep boto3 from looking for real ones;
#: botocore >= 1.40 sends DynamoDB (Streams) calls to account-based endpoints that moto does not
#: route unless this mode is off.
_BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@contextmanager
def moto_one_request_at_a_time() -> Iterator[None]:
    """Make moto handle one request at a time, as one server process would.

    moto's in-memory backends are not thread-safe, and the handlers write concurrently (the
    replicator sends several BatchWriteItem calls at once): two writes that create the same
    partition of moto's table at the same moment can lose an item (2 of 100,000 in one sandbox
    run before this lock), and a damaged table stream can hand out records without end. Real
    DynamoDB has no such race; an emulator must not add one. Used by the sandbox, the bench's
    moto run and the handler tests.
    """
    from moto.core.responses import BaseResponse

    original = BaseResponse._dispatch
    lock = threading.RLock()

    def dispatch(response: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(response, *args, **kwargs)

    BaseResponse._dispatch = dispatch  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        BaseResponse._dispatch = original  # type: ignore[method-assign]


#: The role the sandbox assumes in an account to deploy into it (moto does not require it to
#: exist; in a real account this is the deployment role of the CI pipeline).
DEPLOYER_ROLE = "sandbox-deployer"

_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


@contextmanager
def patched_environ(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, with ``None``, unset) environment variables, and restore them afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Emulator:
    """moto, started in-process (``mock_aws``) or as a threaded HTTP server (``serve=True``).

    Use as a context manager. While it runs, :meth:`session` hands out boto3 sessions that act in
    a given account, and :meth:`credentials_for_role` the credentials a role gets from STS.
    """

    def __init__(self, region: str, *, serve: bool = False, port: int = 5000) -> None:
        self.region = region
        self.serve = serve
        self.port = port
        self.endpoint_url: str | None = None
        self._mock: Any = None
        self._server: Any = None
        self._env: Any = None
        self._lock = threading.Lock()
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._loader = botocore.loaders.create_loader()
        self._one_request: Any = None
        self._firehose: Any = None
        self._restore_new: Any = None
        self._sts: Any = None

    def __enter__(self) -> Emulator:
        env: dict[str, str | None] = {**_BASE_ENV, "AWS_DEFAULT_REGION": self.region}
        # A real AWS_PROFILE or AWS_ENDPOINT_URL in the user's shell must not leak in.
        env.update({"AWS_PROFILE": None, "AWS_ENDPOINT_URL": None, "MOTO_ACCOUNT_ID": None})
        if self.serve:
            import logging

            from moto.server import ThreadedMotoServer

            # One access-log line per request would bury the demo's output.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)

            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            # Every client in this process, the handlers' included, goes to the server.
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        self._one_request = moto_one_request_at_a_time()
        self._one_request.__enter__()
        self._firehose = real_key_layout()
        self._firehose.__enter__()
        self._untrack_moto_models()
        self._env = patched_environ(env)
        self._env.__enter__()
        # The default session caches clients and event hooks across runs; start from a new one.
        boto3.DEFAULT_SESSION = None
        if not self.serve:
            from moto import mock_aws

            self._mock = mock_aws()
            self._mock.start()
        return self

    def _untrack_moto_models(self) -> None:
        """Stop moto keeping every model object it ever created.

        moto appends each instance of its models (every table item, every stream record) to a
        class-level list, for its server's dashboard; nothing else reads it. A replaced item or an
        expired stream record is then never freed: 1.4 GB of a 100,000-record run went there."""
        from moto.core.common_models import BaseModel

        original = BaseModel.__dict__["__new__"]

        def new(cls: type, *args: Any, **kwargs: Any) -> Any:
            return object.__new__(cls)

        BaseModel.__new__ = staticmethod(new)  # type: ignore[method-assign]
        self._restore_new = original

    def __exit__(self, *exc: object) -> None:
        if self._restore_new is not None:
            from moto.core.common_models import BaseModel

            BaseModel.__new__ = self._restore_new  # type: ignore[method-assign]
            self._restore_new = None
        if self._one_request is not None:
            self._one_request.__exit__(None, None, None)
            self._one_request = None
        if self._firehose is not None:
            self._firehose.__exit__(None, None, None)
            self._firehose = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._server is not None:
            # The server's state is moto's process-wide backends: forget it, as mock_aws does
            # on stop, so that a second run in this process starts from an empty AWS.
            from moto.moto_api import _internal as moto_api

            moto_api.models.moto_api_backend.reset()
            self._server.stop()
            self._server = None
        if self._env is not None:
            self._env.__exit__(None, None, None)
            self._env = None
        boto3.DEFAULT_SESSION = None
        self._sessions.clear()
        self._clients.clear()
        self._sts = None

    def client(self, service: str, account_id: str, region: str | None = None) -> Any:
        """A boto3 client acting in ``account_id`` (as the sandbox's deployer role there).

        Clients are cached: creating one costs tens of milliseconds, and a deployment asks for
        one per resource."""
        key = (service, account_id, region or self.region)
        with self._lock:
            cached = self._clients.get(key)
        if cached is None:
            cached = self.session(account_id).client(
                service, region_name=key[2], config=_CLIENT_CONFIG
            )
            with self._lock:
                cached = self._clients.setdefault(key, cached)
        return cached

    def new_session(self, credentials: dict[str, Any] | None = None) -> boto3.Session:
        """A boto3 session (with ``credentials`` from STS, if given) sharing one model loader:
        every new botocore session would otherwise parse the service models again."""
        core = botocore.session.Session()
        core.register_component("data_loader", self._loader)
        if credentials is None:
            return boto3.Session(botocore_session=core, region_name=self.region)
        return boto3.Session(
            botocore_session=core,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self.region,
        )

    def session(self, account_id: str) -> boto3.Session:
        with self._lock:
            cached = self._sessions.get(account_id)
        if cached is None:
            creds = self.credentials_for_role(
                f"arn:aws:iam::{account_id}:role/{DEPLOYER_ROLE}", "sandbox-deploy"
            )
            with self._lock:
                cached = self._sessions.setdefault(account_id, self.new_session(creds))
        return cached

    def credentials_for_role(self, role_arn: str, session_name: str) -> dict[str, Any]:
        """Credentials of ``role_arn`` from the emulator's STS (what Lambda hands a function)."""
        with self._lock:
            if self._sts is None:
                self._sts = self.new_session().client("sts", config=_CLIENT_CONFIG)
            sts = self._sts
        return dict(sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"])
