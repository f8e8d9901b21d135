"""Drift monitoring: one streaming statistics engine for baselines and drift runs.

Memory is O(features × sketch size), never O(rows): numeric features are summarised by a KLL
quantile sketch (Apache DataSketches, exact while a feature has at most ``k`` values) plus exact
moments; categorical ones by capped value counts. ``baseline`` writes and reads Model Monitor's
``statistics.json`` / ``constraints.json``; ``drift`` compares a window with a baseline; ``job``
is the entry point the SageMaker Processing job runs. Needs the ``monitor`` extra (numpy, scipy,
pyarrow, datasketches; matplotlib for the report), imported only here.
"""
