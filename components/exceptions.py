"""The Pulumi side's exceptions, in one module.

* :class:`SettingError` — a component argument AWS would reject (or that cannot work); raised
  by the args classes, naming the argument's path (``ReplicaSourceArgs.mapping.batch_size``).
* :class:`StackConfigError` — a stack config value is missing or wrong; the ``stack_config`` package
  raises it with the stack file and the config key named, often from a :class:`SettingError`.
  It is a :class:`pulumi.RunError`, which the Pulumi CLI prints as its one-line message instead
  of a traceback.
"""

import pulumi


class SettingError(ValueError):
    """A component argument that AWS would reject or that cannot work.

    ``owner`` is the args class (``ReplicaSourceArgs``), ``field`` the argument's dotted path
    inside it (``mapping.batch_size``), ``problem`` what is wrong (``must be 1..10000, got 0``).
    """

    def __init__(self, owner: str, field: str, problem: str) -> None:
        super().__init__(f"{owner}.{field} {problem}" if field else f"{owner}: {problem}")
        self.owner = owner
        self.field = field
        self.problem = problem


class StackConfigError(pulumi.RunError, ValueError):
    """A stack config value (``Pulumi.<stack>.yaml``) is missing or wrong; the message names the
    stack file and the key (``file``, ``key``: the same, for callers that re-word the message,
    e.g. the sandbox for a key set on its command line; ``None`` when not known).

    A :class:`pulumi.RunError`: ``pulumi preview``/``up`` print the message as one line."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.key = key
