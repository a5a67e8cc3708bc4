"""Lambda handlers of the cross-account stream replica.

The handlers are configured only through environment variables, which the Pulumi components set:

Replicator (``handlers.replicator.handler``; Kinesis -> DynamoDB in the target account)
    ``ACCESS_MODE``            ``assume-role`` (default) or ``resource-policy``
    ``TABLE_NAME``             target table name
    ``TABLE_ARN``              target table ARN (resource-policy mode addresses the table by ARN)
    ``TARGET_REGION``          region of the target table
    ``WRITER_ROLE_ARN``        role to assume in the target account (assume-role mode)
    ``WRITER_ROLE_SESSION_NAME`` session name for that AssumeRole call
    ``WRITER_EXTERNAL_ID``     optional ``sts:ExternalId``
    ``DEAD_LETTER_QUEUE_URL``  SQS queue that keeps poison records
    ``MAX_WRITE_CONCURRENCY``  concurrent BatchWriteItem calls (default 4)
    ``WRITER_SESSION_DURATION_SECONDS`` optional, AssumeRole ``DurationSeconds``
                               (900..3600, default 3600: role chaining caps it at one hour)
    ``DROP_FIELDS``            optional, JSON array of attribute paths removed before sending
    ``PSEUDONYMIZE_FIELDS``    optional, JSON array of attribute paths replaced by HMAC-SHA256
    ``PSEUDONYMIZATION_KEY_PARAMETER`` SSM SecureString with the HMAC key (own account)

Archiver (``handlers.archiver.handler``; DynamoDB Streams -> Firehose)
    ``DELIVERY_STREAM_NAME``   Firehose delivery stream
    ``ARCHIVE_REMOVES``        ``true`` to write tombstone lines for REMOVE events
                               (default ``false``)
    ``DEAD_LETTER_QUEUE_URL``  SQS queue that keeps poison records
    ``MAX_PUT_CONCURRENCY``    optional, concurrent PutRecordBatch calls (default 4)

Query writer (``handlers.query_writer.handler``; DynamoDB Streams -> the query table)
    ``QUERY_TABLE_NAME``       the query table
    ``QUERY_HASH_ATTRIBUTE``   attribute of each image that is the query table's hash key
    ``QUERY_HASH_TYPE``        its type, ``S`` (default) or ``N``
    ``QUERY_RANGE_ATTRIBUTE``  attribute that orders a user's events
    ``QUERY_SORT_KEY_ATTRIBUTE`` the query table's range key (default ``eventKey``)
    ``SOURCE_TTL_DAYS``        optional, the source table's TTL days (to recover arrival times)
    ``DEAD_LETTER_QUEUE_URL``  SQS queue that keeps poison records
    ``MAX_WRITE_CONCURRENCY``  optional, concurrent BatchWriteItem calls (default 4)

Replicator and query writer
    ``TTL_DAYS``               optional, days after the event's arrival at which its item
                               expires (DynamoDB TTL); unset or 0 adds no expiry
    ``TTL_ATTRIBUTE``          the expiry attribute, epoch seconds (default ``expiresAt``)

Replicator and archiver
    ``TRANSFORM_MODULE``       optional, path in the asset of the user's transform file

All
    ``RETRY_SAFETY_MARGIN_MS`` optional, milliseconds of the Lambda timeout kept back from
                               retries for the call in flight and the response (default 10000;
                               at most a quarter of the invocation's time, and the first write
                               call of an invocation is always made)

All also honour Powertools' own variables (``POWERTOOLS_SERVICE_NAME``,
``POWERTOOLS_METRICS_NAMESPACE``, ``POWERTOOLS_LOG_LEVEL``) and read ``AWS_REGION`` (set by
Lambda) for their own-account clients. Variables are read at each invocation, never at import.
"""
