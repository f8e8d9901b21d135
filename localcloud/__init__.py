"""The local cloud: moto on 127.0.0.1, extended with SageMaker's training and rollout behaviour.

``LocalCloud`` serves it, ``SimClock`` compresses its time, ``materialise`` creates the
stack's resources in it from the real stack program. Heavy imports (moto, boto3,
pulumi) happen only when a cloud is started or a stack materialised.
"""

from localcloud.clock import SimClock
from localcloud.server import LocalCloud

__all__ = ["LocalCloud", "SimClock", "materialise"]


def __getattr__(name: str) -> object:
    if name == "materialise":
        from localcloud.materialise import materialise

        return materialise
    raise AttributeError(f"module 'localcloud' has no attribute {name!r}")
