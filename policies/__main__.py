"""Entry point of the CrossGuard policy pack: ``pulumi preview --policy-pack policies/``.

Pulumi runs this file from the ``policies/`` directory; the repository root goes on
``sys.path`` so the rules (and ``components.tags``) import as in the rest of the code.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from policies.pack import serve

    serve()
