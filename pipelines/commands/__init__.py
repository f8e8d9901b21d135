"""One module per `mlops` command: ``configure(parser)`` and ``run(args, console) -> int``.

Top-level imports here are standard library only (see ``pipelines.cli``).
"""
