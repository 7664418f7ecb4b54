"""The accounting of an import: every feature read is imported or rejected, once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from kosovo_cmr.errors import KcmrError
from kosovo_cmr.geometry_checks import Issue
from kosovo_cmr.import_report import AccountingError, account, alive_mask, check_balance


def report_of(issues, *, repaired=None):
    n = len(issues)
    return account(
        issues,
        ids=[f"H-{i}" for i in range(n)],
        repaired=np.zeros(n, dtype=bool) if repaired is None else np.asarray(repaired),
        area_change=[None] * n,
        replaced=0,
        source="h.gpkg",
        layer="hazards",
        dry_run=False,
        store=None,
        crs="EPSG:4326",
        notices=[],
    )


def test_outcomes_and_counts():
    issues = [[], [Issue("null_geometry")], [Issue("self_intersection")], [Issue("z_dropped")]]
    report = report_of(issues, repaired=[False, False, True, False])
    assert (report.read, report.imported, report.repaired, report.rejected) == (4, 3, 1, 1)
    assert report.features["outcome"].tolist() == ["imported", "rejected", "repaired", "imported"]
    assert report.reasons == {"null_geometry": 1, "self_intersection": 1, "z_dropped": 1}
    assert alive_mask(issues).tolist() == [True, False, True, True]
    check_balance(report, read=4)  # balanced: no error


@pytest.mark.parametrize(
    "break_it, message",
    [
        (lambda r: setattr(r, "imported", r.imported - 1), "!= imported 1 \\+ rejected 1"),
        (lambda r: setattr(r, "rejected", 0), "!= imported 2 \\+ rejected 0"),
        (lambda r: setattr(r, "features", r.features.iloc[:2]), "2 feature row"),
        (lambda r: setattr(r, "repaired", 1), "feature table counts"),
    ],
)
def test_an_unbalanced_report_is_refused(break_it, message):
    report = report_of([[], [], [Issue("null_geometry")]])
    break_it(report)
    with pytest.raises(AccountingError, match=message) as caught:
        check_balance(report, read=3)
    assert isinstance(caught.value, KcmrError) and "nothing was written" in str(caught.value)


def test_a_feature_lost_by_a_reader_is_refused():
    report = report_of([[], []])  # the reader returned 3 features but only 2 were accounted
    with pytest.raises(AccountingError, match="read 3 \\(report: 2\\)"):
        check_balance(report, read=3)


def test_the_check_survives_python_optimise():
    """``python -O`` drops ``assert``: the accounting check must not be one."""
    code = textwrap.dedent(
        """
        import numpy as np
        from kosovo_cmr.import_report import AccountingError, account, check_balance
        report = account([[], []], ids=["a", "b"], repaired=np.zeros(2, dtype=bool),
                         area_change=[None, None], replaced=0, source="s", layer="hazards",
                         dry_run=True, store=None, crs="EPSG:4326", notices=[])
        report.imported = 1
        try:
            check_balance(report, read=2)
        except AccountingError:
            print("refused")
        """
    )
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "refused"
