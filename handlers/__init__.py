"""Lambda handlers of the cross-account stream replica.

The handlers are configured only through environment variables, which the Pulumi components
set: ``handlers.replicator.handler`` (Kinesis -> DynamoDB in the target account),
``handlers.archiver.handler`` (DynamoDB Streams -> Firehose) and ``handlers.query_writer.handler``
(DynamoDB Streams -> the query table). :data:`.environment.VARIABLES` holds each variable: which
handler reads it, its default and what it means (docs/handlers.md shows it as a table). They
also read ``AWS_REGION`` (set by Lambda) for their own-account clients. Variables are read at
each invocation, never at import.
"""
