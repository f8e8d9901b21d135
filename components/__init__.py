"""Pulumi components for a secure SageMaker MLOps platform.

Importing this package imports nothing heavy: ``components.config`` and
``components.contract`` are pure pydantic; the component classes live in their own
modules (``components.storage``, ``components.registry``, …) and import pulumi.
"""
