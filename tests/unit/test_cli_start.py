"""`mlops --help` must start without the heavy SDKs (pulumi, boto3, botocore, moto)."""

import json
import subprocess
import sys

HEAVY = ("pulumi", "pulumi_aws", "boto3", "botocore", "moto")


def test_help_imports_no_heavy_sdk() -> None:
    code = (
        "import sys, json\n"
        "from pipelines.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "plan" in proc.stdout and "deploy" in proc.stdout
    modules = json.loads(proc.stderr.strip().splitlines()[-1])
    loaded = [m for m in modules if m.split(".")[0] in HEAVY]
    assert loaded == [], f"mlops --help imported {loaded}"


def test_only_the_named_command_is_configured() -> None:
    """`mlops plan --help` shows plan's own options; other commands' modules stay unloaded."""
    code = (
        "import sys\n"
        "from pipelines.cli import main\n"
        "try:\n    main(['plan', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('deploy-loaded' if 'pipelines.commands.deploy' in sys.modules else 'lazy',"
        " file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--preview" in proc.stdout and "--stacks-dir" in proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == "lazy"
