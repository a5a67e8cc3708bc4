"""``python -m stream_replica.status``: one screen of the pipeline's health (see
``docs/observability.md``): what each stack's outputs name (:mod:`.targets`), read from AWS
(:mod:`.checks`)."""
