"""A batch file (issue 38's operations): what ``reoffend serve`` deploys besides study files.
Its mistakes are one line naming the file, found when it is served, not at 6 a.m. on the 1st."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from evaluation.batch.batch_file import batch_with_operations
from evaluation.errors import SettingsError
from evaluation.settings.model import read_toml


def _read(tmp_path: Path, text: str):
    path = tmp_path / "national.toml"
    path.write_text(text)
    return batch_with_operations(path, read_toml(path)["batch"])


GOOD = ('[batch]\nname = "national"\nrequests = "requests"\ndata = "national"\nout = "batches"\n'
        '[batch.study]\nbootstrap_resamples = 200\n'
        '[batch.schedule]\ncron = "0 6 1 * *"\ntimezone = "Europe/London"\n'
        '[batch.notify]\non_failure = "custom-webhook/ops"\n')


def test_a_batch_file_is_read_with_paths_relative_to_it(tmp_path):
    batch, schedule, notify = _read(tmp_path, GOOD)
    assert batch.requests == tmp_path / "requests" and batch.data == tmp_path / "national"
    assert batch.out_for(dt.date(2026, 12, 1)) == tmp_path / "batches" / "2026-12-01"
    assert batch.settings() == {"bootstrap_resamples": 200, "date_format": "YYYY-MM-DD"}
    assert schedule == {"cron": "0 6 1 * *", "timezone": "Europe/London"} and notify == "custom-webhook/ops"
    assert batch.record()["requests"] == str(tmp_path / "requests")  # a Prefect parameter: JSON


@pytest.mark.parametrize(("change", "said"), [
    (("name = \"national\"", "name = \"../x\""), "[batch] name: must be 1-64 letters"),
    (("out = \"batches\"", "out = \"batches\"\nworkers = 0"), "[batch] workers: Input should be greater than"),
    (("out = \"batches\"", "out = \"batches\"\noutput = \"x\""), "[batch] output: Extra inputs are not permitted"),
    (("bootstrap_resamples = 200", "out_dir = \"/tmp/x\""), "[batch] study: sets out_dir, which the batch's own keys"),
    (("bootstrap_resamples = 200", "bootstrap_resample = 200"), "[batch.study] unknown setting"),
    (("cron = \"0 6 1 * *\"", "cron = \"monthly\""), "must have five fields"),
    (("on_failure = \"custom-webhook/ops\"", "on_failure = \"a webhook\""), "[batch.notify] needs on_failure"),
])
def test_each_mistake_is_one_line_naming_the_file(tmp_path, change, said):
    with pytest.raises(SettingsError) as caught:
        _read(tmp_path, GOOD.replace(*change))
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "national.toml")) and said in message and "\n" not in message, message


def test_a_file_that_is_both_a_study_and_a_batch_is_refused(tmp_path):
    from flows.serve import _deployments

    (tmp_path / "both.toml").write_text(GOOD + '[study]\nname = "x"\n')
    with pytest.raises(SettingsError, match="has both \\[study\\] and \\[batch\\]"):
        _deployments(tmp_path, dict, dict)
    (tmp_path / "both.toml").unlink()
    (tmp_path / "national.toml").write_text(GOOD)
    (tmp_path / "study.toml").write_text(f'[study]\nname = "national"\ndata_dir = "{tmp_path}"\nout_dir = "o"\n')
    with pytest.raises(SettingsError, match="also named 'national'"):
        _deployments(tmp_path, dict, dict)
    (tmp_path / "study.toml").unlink()
    made = _deployments(tmp_path, dict, lambda **kw: ("batch", kw))
    assert made[0][0] == "batch" and made[0][1]["name"] == "national" and made[0][1]["parameters"]["notify"]
