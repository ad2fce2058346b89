"""One place decides torch's CPU thread count: an explicit variable, else the cores free right now."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rnncourse.runtime import threads


def _clear(monkeypatch):
    monkeypatch.delenv("RNNCOURSE_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


def test_the_course_variable_wins_over_omp(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_THREADS", "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.choose_threads() == (3, "RNNCOURSE_THREADS=3")


def test_a_bad_value_is_refused_in_words(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_THREADS", "many")
    with pytest.raises(ValueError, match="RNNCOURSE_THREADS='many' is not a number of threads"):
        threads.choose_threads()


@pytest.mark.parametrize("busy, expected", [(0.0, 4), (0.4, 4), (1.2, 3), (3.0, 1), (7.5, 1)])
def test_free_cores_are_the_usable_cores_less_the_work_of_others(monkeypatch, busy, expected):
    _clear(monkeypatch)
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(threads, "_busy_cores_now", lambda: busy)
    number, reason = threads.choose_threads()
    assert (number, reason) == (expected, f"{expected} of 4 cores free")


def test_without_proc_stat_the_load_average_counts(monkeypatch):
    _clear(monkeypatch)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "_busy_cores_now", lambda: None)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.9, 1.0, 1.0))
    assert threads.choose_threads()[0] == 1


def test_the_busy_sample_reads_this_machine():
    busy = threads._busy_cores_now(0.05)
    assert busy is None or 0.0 <= busy <= (threads.os.cpu_count() or 1) + 1e-6


def test_environment_summary_applies_the_decision_once_and_states_it():
    code = ("import torch, rnncourse; from rnncourse.runtime import threads\n"
            "print(rnncourse.environment_summary()); print(torch.get_num_threads())\n"
            "threads.set_threads(1, '--threads 1'); print(rnncourse.environment_summary())")
    env = {"RNNCOURSE_THREADS": "2", "RNNCOURSE_PROFILE": "smoke", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    first, count, second = out.stdout.splitlines()
    assert "CPU, 2 threads" in first and "RNNCOURSE_THREADS=2" in first and count == "2"
    assert "CPU, 1 thread (" in second and "--threads 1" in second
