"""Your copy of the ``stream-replica-guardrails`` CrossGuard pack.

The rules come from the ``stream-replica-policy`` package (``requirements.txt``). Set a level
per rule here or in a config file passed with ``--policy-pack-config`` (the file wins):
``"advisory"`` reports, ``"mandatory"`` fails the update, ``"disabled"`` skips the rule;
``"all"`` sets every rule. ``scope="components"`` limits the rules to the resources the
stream-replica components create; ``"stack"`` applies them to every resource.
"""

from stream_replica_policy import serve

serve(
    levels={
        # "all": "advisory",
        # "log-group-retention": "disabled",
    },
    scope="stack",
)
