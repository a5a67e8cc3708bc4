"""Stack configuration: read, check, and turn into component arguments.

``__main__.py`` stays thin: it calls :func:`stack_config.stack.load`, creates the components
from the args it returns and exports their outputs. The typed ``config:`` schema in
``Pulumi.yaml`` is the one list of project keys and defaults; this package reads it, so

* a project key set in the stack that the schema doesn't declare is an error (a typo would
  otherwise be silently ignored),
* a value of the wrong type is an error,
* the stack-level checks follow (12-digit account ids, the stack's account in
  ``aws:allowedAccountIds``, the two stacks' agreement, …).

A setting's default and its checks live in the component args (``stream_replica.components``);
this package only maps each config key to an args field and turns the args'
:class:`SettingError` into a :class:`StackConfigError` that names the stack file and the key, e.g.
``Pulumi.prod.yaml: kinesis-crossaccount-replica:batchSize: must be 1..10000, got 0``.

Modules, in the order they build on each other: ``schema`` (``Pulumi.yaml``'s config schema),
``reader`` (:class:`StackConfig`: typed keys, errors naming the key), ``keys`` (config key ->
args field), ``settings`` (what both sides share), ``references`` (the other stack: its outputs
and what both must agree on), ``args`` (each component's args), ``stack`` (:func:`load`).
"""
