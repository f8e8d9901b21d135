"""The model lifecycle (train, register, approve, deploy, verify, rollback, promote) and the `mlops` CLI."""
