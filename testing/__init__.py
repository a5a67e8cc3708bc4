"""Test helpers for programs that use the stream replica's components, and for its handlers.

Installed with the components (``pip install crossaccount-stream-replica``)::

    from stream_replica.testing import main_program, render, Rendered, StreamReplicaMocks

* :mod:`.mocks` — :class:`StreamReplicaMocks` (a ``pulumi.runtime.Mocks`` with realistic
  computed outputs: ARNs in each provider's account and region, queue URLs, stream ARNs,
  mapping UUIDs, autonames) and :func:`render`, which runs a program under them and returns
  every registered resource with its resolved inputs and IAM documents.
* :mod:`.events`, :mod:`.clickstream`, :mod:`.contexts`, :mod:`.tables` — Lambda events, a
  web-analytics clickstream, fake Lambda contexts and the replica table's key schema (for moto)
  for the handlers (these need ``boto3``).

Importing this package imports only Pulumi; the handler fixtures are separate modules.
"""

from .mocks import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    POLICY_FIELDS,
    RecordedResource,
    RecordingMocks,
    RecordingMonitor,
    Rendered,
    RenderedStack,
    StreamReplicaMocks,
    autoname,
    main_program,
    render,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "POLICY_FIELDS",
    "RecordedResource",
    "RecordingMocks",
    "RecordingMonitor",
    "Rendered",
    "RenderedStack",
    "StreamReplicaMocks",
    "autoname",
    "main_program",
    "render",
]
