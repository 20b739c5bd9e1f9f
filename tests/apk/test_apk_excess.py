"""Category 7 from the manifest: declared dangerous groups that no declared feature justifies."""

from __future__ import annotations

import pytest

from exerciser.apk import read_apk
from exerciser.apk.build import build_apk
from exerciser.apk.excess import manifest_excess
from exerciser.scenario import Feature


@pytest.fixture(scope="module")
def apk(tmp_path_factory):
    path = tmp_path_factory.mktemp("excess") / "scan.apk"
    perms = [
        "android.permission.CAMERA",
        "android.permission.READ_CONTACTS",
        "android.permission.WRITE_CONTACTS",
        "android.permission.ACCESS_FINE_LOCATION",
        "android.permission.READ_CALL_LOG",
        "android.permission.INTERNET",
    ]
    return read_apk(build_apk(path, "com.example.scan", target_sdk=33, permissions=perms))


def test_unjustified_groups_are_warned(apk):
    features = [Feature("scan", ("android.permission.CAMERA",)), Feature("nearby stores", ("location",))]
    warnings = manifest_excess(apk, features)
    assert [w.group for w in warnings] == ["contacts", "call_log"]
    contacts = warnings[0]
    assert contacts.category == "7"
    assert contacts.permissions == ("android.permission.READ_CONTACTS", "android.permission.WRITE_CONTACTS")
    assert "READ_CONTACTS" in str(contacts) and "no declared feature" in str(contacts)


def test_one_permission_of_a_group_justifies_the_group(apk):
    features = [
        Feature("invite", ("android.permission.READ_CONTACTS",)),
        Feature("all", ("camera", "location", "call_log")),
    ]
    assert manifest_excess(apk, features) == []


def test_no_features_means_every_group_is_excess(apk):
    warnings = manifest_excess(apk, [])
    assert {w.group for w in warnings} == {"camera", "contacts", "location", "call_log"}
    assert all("declares no features" in w.message for w in warnings)


def test_call_log_in_phone_group_on_old_devices(apk):
    # On API 27 READ_CALL_LOG is in "phone"; a feature naming call_log still covers it
    features = [Feature("calls", ("call_log",)), Feature("x", ("camera", "contacts", "location"))]
    assert manifest_excess(apk, features, api_level=27) == []
    warnings = manifest_excess(apk, [Feature("x", ("camera", "contacts", "location"))], api_level=27)
    assert [(w.group, w.permissions) for w in warnings] == [("phone", ("android.permission.READ_CALL_LOG",))]
