"""``components.regions``: which AWS regions exist, from botocore's own partition data."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from components.regions import (
    check_region,
    dns_suffix,
    known_regions,
    partition_of,
    region_problem,
)


def test_every_partition_s_regions_are_known_and_pseudo_regions_are_not() -> None:
    regions = known_regions()
    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= regions
    assert "aws-global" not in regions and "local" not in regions
    assert (partition_of("eu-west-1"), partition_of("cn-northwest-1")) == ("aws", "aws-cn")
    assert partition_of("us-gov-east-1") == "aws-us-gov" and partition_of("mars-1") is None
    assert (dns_suffix("eu-west-1"), dns_suffix("cn-north-1")) == (
        "amazonaws.com",
        "amazonaws.com.cn",
    )


def test_a_real_region_has_no_problem() -> None:
    assert region_problem("eu-west-1") is None
    assert check_region("ap-southeast-2") == "ap-southeast-2"


@pytest.mark.parametrize(
    ("region", "says"),
    [
        ("us-east-1; rm -rf /", "'us-east-1; rm -rf /' is not an AWS region name"),
        ("EU-WEST-1", "is not an AWS region name (like 'eu-west-1'"),
        ("", "'' is not an AWS region name"),
        ("eu-west-9", "known in that area: eu-west-1, eu-west-2, eu-west-3"),
        ("xx-moon-1", "'xx-moon-1' is not a region of any AWS partition botocore knows"),
    ],
)
def test_anything_else_is_named_with_what_is_allowed(region: str, says: str) -> None:
    problem = region_problem(region)
    assert problem is not None and says in problem
    with pytest.raises(ValueError, match="region"):
        check_region(region)


def test_a_huge_value_is_cut_at_200_characters() -> None:
    problem = region_problem("x" * 100_000)
    assert problem is not None and len(problem) < 400 and "(100000 chars)" in problem


def test_importing_it_loads_no_botocore() -> None:
    code = (
        "import sys, json\nimport components.regions\n"
        "print(json.dumps([m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3', "
        "'pulumi')]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == []
