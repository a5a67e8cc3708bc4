"""CrossGuard policy pack for programs that use the stream-replica components.

Run it beside a preview or update (the Pulumi CLI installs ``requirements.txt`` into this
folder's virtualenv first)::

    pulumi preview --policy-pack policy_pack
    pulumi up -s poc --policy-pack policy_pack

Every rule is MANDATORY: a violation blocks the update. The rules themselves are plain functions
in ``replica_rules.py`` (documented in docs/policy.md and unit-tested in tests/policy/).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyPack
from replica_rules import build_policies

PolicyPack(
    name="stream-replica-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(),
)
