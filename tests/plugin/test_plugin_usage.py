"""The pytest plugin used exactly as an app team uses it: no imports, no setup, just the fixtures that
the installed `exerciser` entry point provides. Runs are cached per session, so the three tests below
cost one run of the app."""


def test_no_nagging(exerciser_run):
    assert exerciser_run("scenarios/compliant_en.yaml").category(6).compliant


def test_refusing_does_not_lock_us_out(exerciser_run):
    result = exerciser_run("scenarios/compliant_en.yaml")
    assert result.category(5).compliant
    assert result.category("consent").compliant


def test_account_deletion_within_five_taps(exerciser_run):
    deletion = exerciser_run("scenarios/compliant_en.yaml").category(8)
    assert deletion.compliant
    assert deletion.figure <= 5
    assert all(path.exists() for path in deletion.evidence)
