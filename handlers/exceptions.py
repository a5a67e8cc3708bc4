"""The handlers' exceptions, in one module.

* :class:`PoisonRecordError` — a record that can never be written as it is (its own content is
  wrong); it goes to the dead-letter queue with its reason.
* :class:`ConfigError` — an environment variable of the handler's contract is missing or
  malformed: a deployment fault, never a record's.
* :class:`RedactionKeyError` — the pseudonymisation key could not be read (a
  :class:`ConfigError`; :mod:`.redaction` raises it).
"""


class PoisonRecordError(ValueError):
    """A record that can never be written as it is; ``reason`` says why (for the dead letter)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConfigError(RuntimeError):
    """An environment variable of the handler's contract is missing or malformed."""


class RedactionKeyError(ConfigError):
    """The pseudonymisation key could not be read: a fault of the deployment, not the record."""
