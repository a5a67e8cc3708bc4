"""What the pipeline costs a month for a volume: ``python -m stream_replica.cost`` (see
``docs/cost.md``). Prices are data with their sources (:mod:`.prices`); the model is
:mod:`.model`; Lambda's share of it is :mod:`.lambda_cost`."""
