"""What the command-line tools (``python -m stream_replica.redrive``, ``… .backfill``) share:
one style for profiles, regions, ``--endpoint-url``, ``--dry-run``, ``--json``, exit statuses
and one-line AWS errors.

* :mod:`.aws_errors`: an exception from botocore as one line that says what to do
  (:func:`~.aws_errors.explain`), and exit status 3 (:data:`~.aws_errors.EXIT_AWS_ERROR`);
* :mod:`.options`: the shared flags, the exit-status epilog, the botocore retry settings, the
  session and clients, and :func:`~.options.run_command` (a run whose AWS errors become that
  line and status 3).
"""

from .aws_errors import EXIT_AWS_ERROR, explain
from .options import (
    AWS_RETRIES,
    add_aws_arguments,
    custom_endpoint,
    epilog,
    run_command,
    session_from,
)

__all__ = [
    "AWS_RETRIES",
    "EXIT_AWS_ERROR",
    "add_aws_arguments",
    "custom_endpoint",
    "epilog",
    "explain",
    "run_command",
    "session_from",
]
