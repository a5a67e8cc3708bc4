"""The Pulumi side's exceptions, in one module.

* :class:`SettingError` — a component argument AWS would reject (or that cannot work); raised
  by the args classes, naming the argument's path (``ReplicaSourceArgs.mapping.batch_size``).
* :class:`StackConfigError` — a stack config value is missing or wrong; the ``stack_config`` package
  raises it with the stack file and the config key named, often from a :class:`SettingError`.
"""


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


class StackConfigError(ValueError):
    """A stack config value (``Pulumi.<stack>.yaml``) is missing or wrong; the message names the
    stack file and the key."""
