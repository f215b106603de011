"""The zones the network spans: by zone id, never one where EKS cannot place a cluster
(issue 18, defect 10: the first N zones of us-east-1 include use1-az3)."""

from __future__ import annotations

import copy

import pytest
from plans import plan, resources_of, stack_values

from infra.base.config import FieldProblem
from infra.config import CONFIG_KEY, ConfigError, parse_config
from infra.foundation.network.config import EKS_UNSUPPORTED_ZONE_IDS, NetworkConfig

# us-east-1 as DescribeAvailabilityZones lists it in one account: names map to ids per account
NAMES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]
IDS = ["use1-az2", "use1-az4", "use1-az3", "use1-az6", "use1-az1", "use1-az5"]


def test_the_first_zones_skip_the_ones_eks_does_not_support() -> None:
    assert "use1-az3" in EKS_UNSUPPORTED_ZONE_IDS
    zones = NetworkConfig(az_count=3).pick_zones(NAMES, IDS)
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1d"]


def test_zones_are_named_by_id_and_excluded_by_id() -> None:
    named = NetworkConfig(az_count=2, availability_zone_ids=["use1-az1", "use1-az6"])
    assert named.pick_zones(NAMES, IDS) == ["us-east-1e", "us-east-1d"]
    excluded = NetworkConfig(az_count=2, exclude_zone_ids=["use1-az2"])
    assert excluded.pick_zones(NAMES, IDS) == ["us-east-1b", "us-east-1d"]


def test_a_zone_the_region_lacks_or_too_few_zones_name_the_field() -> None:
    with pytest.raises(FieldProblem) as err:
        NetworkConfig(az_count=2, availability_zone_ids=["use1-az1", "use1-az9"]).pick_zones(
            NAMES, IDS
        )
    assert err.value.field == "availability_zone_ids" and "use1-az9" in err.value.reason
    with pytest.raises(FieldProblem) as err:
        NetworkConfig(az_count=3).pick_zones(NAMES[:3], IDS[:3])
    assert err.value.field == "az_count"


@pytest.mark.parametrize(
    ("network", "field", "words"),
    [
        ({"availability_zone_ids": ["use1-az1", "use1-az3"]}, "availability_zone_ids.1", "EKS"),
        ({"availability_zone_ids": ["use1-az1"]}, "availability_zone_ids", "az_count is 2"),
        ({"availability_zone_ids": ["use1-az1", "use1-az1"]}, "availability_zone_ids", "twice"),
        (
            {"availability_zone_ids": ["use1-az1", "use1-az2"], "exclude_zone_ids": ["use1-az4"]},
            "exclude_zone_ids",
            "only applies",
        ),
    ],
)
def test_config_refuses_unsupported_or_inconsistent_zones(
    network: dict[str, object], field: str, words: str
) -> None:
    raw = copy.deepcopy(stack_values("dev")["config"][CONFIG_KEY])
    raw["network"].update(network)
    with pytest.raises(ConfigError) as err:
        parse_config(raw, stack="dev")
    message = str(err.value)
    assert message.startswith(f"platform.network.{field}:") and words in message, message


def test_the_unsupported_zone_cites_its_source() -> None:
    raw = copy.deepcopy(stack_values("dev")["config"][CONFIG_KEY])
    raw["network"]["availability_zone_ids"] = ["use1-az3", "use1-az1"]
    with pytest.raises(ConfigError, match="network-reqs"):
        parse_config(raw, stack="dev")


def test_prods_three_zones_leave_out_use1_az3() -> None:
    # the offline region lists us-east-1c as use1-az3 (mlops/engine/fakes.py)
    zones = {
        r["inputs"]["availabilityZone"] for r in resources_of(plan("prod"), "aws:ec2/subnet:Subnet")
    }
    assert zones == {"us-east-1a", "us-east-1b", "us-east-1d"}
