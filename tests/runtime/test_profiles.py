import pytest

import rnncourse
from rnncourse.runtime.profiles import by_profile, get_profile


def test_env_var_selects_the_profile(monkeypatch):
    for name in ("smoke", "cpu", "gpu"):
        monkeypatch.setenv("RNNCOURSE_PROFILE", name.upper())
        assert get_profile() == name
        assert by_profile(smoke=1, cpu=2, gpu=3) == {"smoke": 1, "cpu": 2, "gpu": 3}[name]


def test_default_follows_cuda(monkeypatch):
    import torch

    monkeypatch.delenv("RNNCOURSE_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_profile() == "gpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_profile() == "cpu"


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match="smoke, cpu, gpu"):
        get_profile()


def test_environment_summary_states_profile_and_hardware(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_PROFILE", "smoke")
    text = rnncourse.environment_summary()
    assert text.startswith("profile smoke (set by RNNCOURSE_PROFILE)") and "torch 2.13.0" in text
