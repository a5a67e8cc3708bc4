"""This repository's own run of the ``stream-replica-guardrails`` CrossGuard pack.

Run it beside a preview or update of our stacks (the CLI installs ``requirements.txt`` into this
folder's virtualenv first; the ``stream_replica_policy`` package next to this file is imported
from here, not installed)::

    pulumi preview -s poc --policy-pack policy_pack
    pulumi up -s prod --policy-pack policy_pack --policy-pack-config policy-config.json

Every rule mandatory, on the whole stack: our stacks pass them all, so any violation is a
regression. Programs elsewhere start from ``template/``, with the documented default levels
(docs/policy-pack.md).
"""

from stream_replica_policy import serve

serve(levels={"all": "mandatory"})
