"""Run a deployed function the way Lambda would, from its own code asset, in this process.

moto stores functions but runs them only in Docker, which the sandbox doesn't need: a
:class:`FunctionRuntime` is one warm execution environment. It extracts the deployed zip (the
bytes moto holds, checked against its CodeSha256) to a folder, imports the handler module from
there under a private package name (so two functions that both ship a ``handlers`` package, and
the project's own ``stream_replica.handlers``, never share module state), and invokes it with the
function's configured environment variables, its execution role's credentials and a context
whose ``get_remaining_time_in_millis`` counts down the function's timeout. What the function
prints goes to its CloudWatch log group in the emulator, as Lambda's runtime does.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib
import importlib.util
import io
import itertools
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stream_replica.testing.contexts import LambdaContext

from .emulator import Emulator, patched_environ
from .mocks import DeployedFunction

_instance_counter = itertools.count(1)
#: sys.stdout/sys.stderr are process-global; one invocation redirects them at a time.
_STDIO_LOCK = threading.Lock()


class FunctionError(Exception):
    """The invocation failed as Lambda reports it (an unhandled error or a timeout)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


@dataclass
class _LogSink(io.TextIOBase):
    """Collects what the function writes; drained to CloudWatch Logs after each invocation."""

    lines: list[str] = field(default_factory=list)
    _partial: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            data = self._partial + text
            *complete, self._partial = data.split("\n")
            self.lines.extend(complete)
        return len(text)

    def drain(self) -> list[str]:
        with self._lock:
            lines, self.lines = self.lines, []
            return lines


class FunctionRuntime:
    """One warm execution environment of a deployed function (see the module docstring)."""

    def __init__(self, function: DeployedFunction, emulator: Emulator, workdir: Path) -> None:
        self.function = function
        self.emulator = emulator
        lam = emulator.client("lambda", function.account_id, function.region)
        config = lam.get_function_configuration(FunctionName=function.arn)
        expected = base64.b64encode(hashlib.sha256(function.zip_bytes).digest()).decode()
        if config["CodeSha256"] != expected:
            raise RuntimeError(
                f"{function.name}: the code asset does not match what was deployed "
                f"(CodeSha256 {config['CodeSha256']} != {expected})"
            )
        self.handler_path: str = config["Handler"]
        self.timeout_s: int = int(config["Timeout"])
        self.memory_mb: int = int(config["MemorySize"])
        self.role_arn: str = config["Role"]
        self.env_vars: dict[str, str] = dict((config.get("Environment") or {}).get("Variables", {}))
        self.log_group = (config.get("LoggingConfig") or {}).get("LogGroup") or (
            f"/aws/lambda/{function.name}"
        )
        self.code_dir = workdir / f"{function.name}-{next(_instance_counter)}"
        with zipfile.ZipFile(io.BytesIO(function.zip_bytes)) as archive:
            archive.extractall(self.code_dir)
        self._alias = f"_sandbox_lambda_{next(_instance_counter)}"
        self._handler: Callable[[Any, Any], Any] | None = None
        self._credentials: dict[str, Any] | None = None
        self._sink = _LogSink()
        self._log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._logs = emulator.client("logs", function.account_id, function.region)
        self._log_ready = False
        self.invocations = 0
        self.errors = 0

    # -- environment --------------------------------------------------------------------------
    def credentials(self) -> dict[str, Any]:
        """The execution role's credentials (Lambda assumes the role for the function)."""
        if self._credentials is None:
            self._credentials = self.emulator.credentials_for_role(
                self.role_arn, self.function.name
            )
        return self._credentials

    def _environment(self) -> dict[str, str | None]:
        creds = self.credentials()
        region = self.function.region
        return {
            **self.env_vars,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
            "AWS_LAMBDA_FUNCTION_NAME": self.function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": self.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self._log_stream,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{self.function.runtime}",
            "LAMBDA_TASK_ROOT": str(self.code_dir),
            "_HANDLER": self.handler_path,
        }

    def _load_handler(self) -> Callable[[Any, Any], Any]:
        module_path, _, attribute = self.handler_path.rpartition(".")
        top, _, rest = module_path.partition(".")
        package_dir = self.code_dir / top
        if (package_dir / "__init__.py").is_file():
            spec = importlib.util.spec_from_file_location(
                self._alias,
                package_dir / "__init__.py",
                submodule_search_locations=[str(package_dir)],
            )
        else:
            spec = importlib.util.spec_from_file_location(self._alias, self.code_dir / f"{top}.py")
        if spec is None or spec.loader is None:
            raise FunctionError(
                "Runtime.ImportModuleError",
                f"Unable to import module '{module_path}' from the asset of {self.function.name}",
            )
        module = importlib.util.module_from_spec(spec)
        sys.modules[self._alias] = module
        spec.loader.exec_module(module)
        target = importlib.import_module(f"{self._alias}.{rest}") if rest else module
        handler = getattr(target, attribute, None)
        if not callable(handler):
            raise FunctionError(
                "Runtime.HandlerNotFound", f"{self.handler_path} is not defined in the asset"
            )
        return handler

    # -- invocation ---------------------------------------------------------------------------
    def invoke(self, event: dict[str, Any], *, crash: bool = False) -> Any:
        """Invoke the handler with ``event``; return its result or raise :class:`FunctionError`.

        ``crash`` makes this invocation fail before the handler runs (the sandbox's
        ``--crash-invocations`` fault), as a runtime crash would.
        """
        request_id = str(uuid.uuid4())
        self.invocations += 1
        started = time.monotonic()
        context = LambdaContext(
            function_name=self.function.name,
            function_version="$LATEST",
            invoked_function_arn=self.function.arn,
            memory_limit_in_mb=self.memory_mb,
            aws_request_id=request_id,
            log_group_name=self.log_group,
            log_stream_name=self._log_stream,
            deadline=started + self.timeout_s,
        )
        self._sink.write(f"START RequestId: {request_id} Version: $LATEST\n")
        error: FunctionError | None = None
        result: Any = None
        with (
            _STDIO_LOCK,
            patched_environ(self._environment()),
            contextlib.redirect_stdout(self._sink),
            contextlib.redirect_stderr(self._sink),
        ):
            try:
                if crash:
                    raise FunctionError(
                        "Runtime.ExitError", "injected crash (sandbox --crash-invocations)"
                    )
                if self._handler is None:
                    self._handler = self._load_handler()
                result = self._handler(event, context)
            except FunctionError as exc:
                error = exc
            except Exception as exc:
                traceback.print_exc(file=self._sink)
                error = FunctionError(type(exc).__name__, str(exc))
        elapsed = time.monotonic() - started
        if error is None and elapsed > self.timeout_s:
            error = FunctionError("Sandbox.Timedout", f"Task timed out after {self.timeout_s} s")
        self._sink.write(f"END RequestId: {request_id}\n")
        self._sink.write(
            f"REPORT RequestId: {request_id}\tDuration: {elapsed * 1000:.2f} ms\t"
            f"Memory Size: {self.memory_mb} MB\n"
        )
        self._ship_logs()
        if error is not None:
            self.errors += 1
            raise error
        return result

    def _ship_logs(self) -> None:
        lines = [line for line in self._sink.drain() if line]
        if not lines:
            return
        if not self._log_ready:
            with contextlib.suppress(self._logs.exceptions.ResourceAlreadyExistsException):
                self._logs.create_log_group(logGroupName=self.log_group)
            self._logs.create_log_stream(
                logGroupName=self.log_group, logStreamName=self._log_stream
            )
            self._log_ready = True
        now = int(time.time() * 1000)
        for start in range(0, len(lines), 5000):
            self._logs.put_log_events(
                logGroupName=self.log_group,
                logStreamName=self._log_stream,
                logEvents=[
                    {"timestamp": now, "message": line[:200_000]}
                    for line in lines[start : start + 5000]
                ],
            )

    def close(self) -> None:
        for name in [n for n in sys.modules if n == self._alias or n.startswith(self._alias + ".")]:
            del sys.modules[name]
        self._handler = None
