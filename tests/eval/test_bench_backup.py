"""A backup taken while 16 residents ask over HTTP restores to the same index and log:
the evaluation's details are the live index's, the log holds the manifest's rows."""

from __future__ import annotations

import pytest

from madoguchi.eval.bench_backup import backup_under_load


@pytest.mark.slow
def test_backup_under_load_restores_the_same_answers_and_log(tmp_path):
    res = backup_under_load(tmp_path, clients=16, requests=12, seconds=30)
    assert res["requests"] > 16 and res["errors"] == 0, res["error_examples"]
    assert res["in_flight_during_backup"] > 0  # the backup really ran under load
    rows = res["log_rows"]
    assert rows["before_backup"] >= 16  # every client had an answer logged first
    assert rows["before_backup"] <= rows["manifest"] <= rows["after_backup"]
    assert rows["restored"] == rows["manifest"]
    assert rows["live_at_end"] == res["requests"]  # every answer was logged on the live side
    assert res["restore_consistent"]
    assert res["questions"] == 68 and res["details_equal"], res["details_differ"]
    assert res["live"]["answer_accuracy"] == res["restored"]["answer_accuracy"]
    assert res["live"]["answer_accuracy"] > 0  # answers, not only refusals, were compared
