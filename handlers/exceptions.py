"""The handlers' exceptions, in one module.

* :class:`PoisonRecordError` — a record that can never be written as it is (its own content is
  wrong); it goes to the dead-letter queue with its reason.
* :class:`ConfigError` — the handler's environment is misconfigured: a deployment fault, never a
  record's.
* :class:`RedactionKeyError` — the pseudonymisation key could not be read (a
  :class:`ConfigError`; :mod:`.redaction` raises it).
"""


class PoisonRecordError(ValueError):
    """A record that can never be written as it is; ``reason`` says why (for the dead letter)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConfigError(RuntimeError):
    """A handler's environment is misconfigured: an environment variable of its contract is
    missing or malformed, or what one names cannot be used (the ``TRANSFORM_MODULE`` file, the
    pseudonymization key), or the environment holds no credentials to assume the writer role
    with; the message says which. Raised inside an invocation, never by the Pulumi program: the
    invocation fails (or, where the handler catches it, reports every record it holds), so Lambda
    retries the batch and no record is lost."""


class RedactionKeyError(ConfigError):
    """The pseudonymisation key could not be read: a fault of the deployment, not the record."""
