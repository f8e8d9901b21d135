"""Entry point of the CrossGuard policy pack: ``pulumi preview --policy-pack policies/``.

Pulumi runs this directory as a script; the repository root replaces it on ``sys.path``
(so ``policies.s3`` is not also importable as a top-level ``s3``) and the rules, with
``components.tags``, import as in the rest of the code.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    sys.path = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))
    from policies.pack import serve

    serve()
