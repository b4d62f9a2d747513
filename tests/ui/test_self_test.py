"""``studio --self-test`` run as a user would: a separate process, real window, real training."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _self_test(extra_env: dict[str, str] | None = None,
               timeout: float = 330) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "studio", "--self-test"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_self_test_trains_one_epoch_and_exits_zero():
    # Work a crash left for the user: the self-test must neither ask about it (nobody could
    # answer offscreen) nor delete it.
    from studio.core import app_dirs

    left = app_dirs.recovery_dir() / "crashed-session.json"
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_text("{}")
    done = _self_test()
    assert left.read_text() == "{}"
    assert done.returncode == 0, done.stderr[-3000:]
    assert "training 'Digits CNN' for one epoch" in done.stdout
    assert "trained 1 epoch(s)" in done.stdout
    assert "self-test passed" in done.stdout
    # It records its run in a temporary folder, not in the user's run history.
    data = Path(os.environ["XDG_DATA_HOME"])
    assert not list(data.rglob("model.keras"))


def test_self_test_fails_with_a_message_when_time_runs_out():
    done = _self_test({"STUDIO_SELF_TEST_TIMEOUT": "0.5"}, timeout=120)
    assert done.returncode == 1
    assert "self-test failed: no result after 0.5 s" in done.stderr
    assert "self-test passed" not in done.stdout


def test_a_bad_time_limit_is_named():
    done = _self_test({"STUDIO_SELF_TEST_TIMEOUT": "soon"}, timeout=60)
    assert done.returncode == 2
    assert "STUDIO_SELF_TEST_TIMEOUT='soon'" in done.stderr
