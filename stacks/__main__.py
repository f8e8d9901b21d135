"""Entry point for the Pulumi CLI (``Pulumi.yaml``: ``main: stacks/``).

The project is installed into the stack's virtualenv (``uv sync``), so ``stacks`` and
``components`` import as packages; a bare checkout falls back to the project root.
"""

import sys
from pathlib import Path

try:
    from stacks.program import main
except ModuleNotFoundError:  # pragma: no cover - only without the project installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from stacks.program import main

main()
