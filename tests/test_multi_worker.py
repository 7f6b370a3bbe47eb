"""--strategy multi_worker on a real engine: two worker processes on 127.0.0.1 (TF_CONFIG, free ports).

Checks what a cluster user relies on: both workers train the same steps; only the chief writes
checkpoints, state and logs; killing one worker ends the other with a one-line message and exit
code 4 (no hang, no traceback); ``--resume`` on both continues from the chief's last checkpoint.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _launch(args: list[str], index: int, ports: list[int], model_dir: Path, log: Path) -> subprocess.Popen:
    tf_config = {
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": index},
    }
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONUNBUFFERED": "1",
        "TF_CONFIG": json.dumps(tf_config),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "repose_tf.train", "--progress=false", *args, f"--model_dir={model_dir}"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
    )


def _epochs(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"^Epoch (\d+)/\d+", text, flags=re.M)]


def _wait(procs, timeout: float) -> list[int]:
    deadline = time.time() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(1.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail(f"a worker did not exit within {timeout:.0f} s")
    return [p.returncode for p in procs]


def test_two_workers_train_together_chief_writes_a_lost_worker_ends_the_run_and_resume_continues(
    tmp_path, data_dir
):
    args = [
        "--strategy=multi_worker", "--preset=repose_tiny", "--dataset=lspet",
        f"--data_dir={data_dir / 'lspet'}", "--max_samples=32", "--batch_size=4", "--steps=20",
        "--checkpoint_every=5", "--val_limit=4", "--eval_limit=4",
    ]  # fmt: skip
    chief_dir, worker_dir = tmp_path / "chief", tmp_path / "worker"
    logs = [tmp_path / "w0.log", tmp_path / "w1.log"]
    ports = _free_ports(2)
    procs = [_launch(args, 0, ports, chief_dir, logs[0]), _launch(args, 1, ports, worker_dir, logs[1])]
    state_path = chief_dir / "state.json"
    deadline = time.time() + 900
    try:
        while time.time() < deadline:
            if state_path.exists() and json.loads(state_path.read_text())["step"] >= 10:
                break
            assert all(p.poll() is None for p in procs), (
                "a worker exited early:\n" + logs[0].read_text()[-3000:]
            )
            time.sleep(0.5)
        else:
            pytest.fail("no chief checkpoint at step >= 10 within the deadline")
        texts = [log.read_text() for log in logs]
        for t in texts:
            assert "strategy multi_worker" in t and "steps 0->20" in t
        # collectives keep the workers in lock-step: the worker is in the chief's epoch (or just past)
        assert set(_epochs(texts[0])[:2]) <= set(_epochs(texts[1])), texts[1][-2000:]
        written = sorted(p.name for p in worker_dir.rglob("*")) if worker_dir.exists() else []
        assert written == [], f"the non-chief worker wrote {written}"  # only the chief writes
        assert {"checkpoint.keras", "state.json", "train_config.json", "log.csv"} <= {
            p.name for p in chief_dir.iterdir()
        }
        procs[1].send_signal(signal.SIGKILL)  # a worker dies
        rc = _wait([procs[0]], timeout=600)[0]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    out = logs[0].read_text()
    assert rc == 4, out[-3000:]
    assert "error: multi_worker: lost contact with another worker" in out and "--resume" in out
    assert "Traceback" not in out
    killed_at = json.loads(state_path.read_text())["step"]
    assert 10 <= killed_at < 20

    # both workers restart on the shared run directory and continue from the chief's checkpoint
    ports = _free_ports(2)
    resume = [*args, "--resume"]
    procs = [_launch(resume, 0, ports, chief_dir, logs[0]), _launch(resume, 1, ports, chief_dir, logs[1])]
    assert _wait(procs, timeout=900) == [0, 0], logs[0].read_text()[-3000:] + logs[1].read_text()[-3000:]
    for log in logs:
        assert f"steps {killed_at}->20" in log.read_text()
    steps = [h["step"] for h in json.loads(state_path.read_text())["history"]]
    assert steps == list(range(5, 25, 5)), steps  # every chunk once: no gap, no repeat
    assert (chief_dir / "model.keras").is_file()
