"""``components/instance_types.py`` against botocore's SageMaker service model.

A family AWS adds shows up here as a failing test, not as a silent refusal of a valid
instance type (or acceptance of one SageMaker hosting does not offer).
"""

from __future__ import annotations

import re

import botocore.session
import pytest

from components import instance_types
from components.config import HOSTING_EXCLUDED_FAMILIES, EndpointConfig


def _families(shape: str) -> set[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    families = set()
    for value in model.shape_for(shape).metadata["enum"]:
        match = re.match(r"^ml\.([a-z0-9-]+)\.[a-z0-9]+$", value)
        assert match, f"unexpected {shape} value {value!r}"
        families.add(match.group(1))
    return families


@pytest.fixture(scope="module")
def hosting() -> set[str]:
    return _families("ProductionVariantInstanceType")


@pytest.fixture(scope="module")
def training() -> set[str]:
    return _families("TrainingInstanceType")


def test_every_gpu_family_we_list_exists_in_botocore(hosting: set[str], training: set[str]) -> None:
    unknown = instance_types.GPU_FAMILIES - (hosting | training)
    assert unknown == set(), f"not a SageMaker instance family: {sorted(unknown)}"


def test_every_gpu_family_we_accept_for_endpoints_is_a_hosting_family(hosting: set[str]) -> None:
    accepted = instance_types.GPU_FAMILIES - HOSTING_EXCLUDED_FAMILIES
    assert accepted - hosting == set()


def test_hosting_exclusions_are_exactly_our_gpu_and_accelerator_families_hosting_lacks(
    hosting: set[str],
) -> None:
    accelerated = instance_types.GPU_FAMILIES | instance_types.ACCELERATOR_FAMILIES
    assert accelerated - hosting == HOSTING_EXCLUDED_FAMILIES


def test_every_nvidia_family_in_botocore_is_in_our_gpu_list(hosting: set[str]) -> None:
    nvidia = {f for f in hosting if re.match(r"^[gp]\d", f)}
    assert nvidia, "botocore lists no g/p families: the model changed shape"
    assert nvidia - instance_types.GPU_FAMILIES == set()


def test_accelerator_families_exist_in_botocore(hosting: set[str]) -> None:
    assert hosting >= instance_types.ACCELERATOR_FAMILIES
    assert instance_types.FALLBACK_FAMILIES <= instance_types.ACCELERATOR_FAMILIES


def test_required_families_accepted_for_gpu_endpoints() -> None:
    for family in ("g5", "g6", "p4d", "p5"):
        assert family in instance_types.GPU_FAMILIES
        assert instance_types.is_gpu(f"ml.{family}.48xlarge")


def test_gpu_and_cpu_lists_are_disjoint() -> None:
    assert instance_types.GPU_FAMILIES.isdisjoint(instance_types.CPU_FAMILIES)
    assert instance_types.ACCELERATOR_FAMILIES.isdisjoint(instance_types.CPU_FAMILIES)


@pytest.mark.parametrize("family", sorted(instance_types.GPU_FAMILIES - HOSTING_EXCLUDED_FAMILIES))
def test_each_hosting_gpu_family_makes_a_gpu_endpoint(family: str, hosting: set[str]) -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    sizes = [
        v
        for v in model.shape_for("ProductionVariantInstanceType").metadata["enum"]
        if v.startswith(f"ml.{family}.")
    ]
    assert sizes, family
    ep = EndpointConfig(name="churn", instance_type=sizes[0])
    assert ep.gpu


def test_processing_families_are_botocores() -> None:
    """The drift job's instance types (``endpoints[].monitoring.instance_type``)."""
    assert _families("ProcessingInstanceType") == instance_types.PROCESSING_FAMILIES
    assert instance_types.is_processing("ml.m5.xlarge")
    assert not instance_types.is_processing("ml.inf2.xlarge")
    assert not instance_types.is_processing("m5.xlarge")
