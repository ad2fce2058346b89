"""``rnncourse info``: what this machine offers the course, and what the course will use.

Prints the torch build, the device :func:`rnncourse.runtime.device.get_device` picks and why, CUDA and MPS
availability, each GPU's name and memory, the CPU threads (and how many a chapter would use now,
:mod:`rnncourse.runtime.threads`), the mixed precision and ``DataLoader``
settings :func:`rnncourse.train.fit` will use, the active profile, and the data cache and mirror.
``--json`` prints the same facts as a JSON object. The exit status is 1 when the environment is
set up wrongly (``RNNCOURSE_DEVICE`` names a device that is not there, an unknown profile).
"""

from __future__ import annotations

import json
import os
import platform
import sys

__all__ = ["add_arguments", "run", "collect"]


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the facts as a JSON object")


def _data_folders() -> tuple[str, str]:
    """The data cache and mirror, from rnncourse.data when it is there, else the environment."""
    try:
        from rnncourse.data.download import cache_dir, mirror_location

        cache, mirror = str(cache_dir()), mirror_location()
    except ImportError:
        cache = os.environ.get("RNNCOURSE_DATA", "").strip() or os.path.expanduser("~/.cache/rnncourse")
        mirror = os.environ.get("RNNCOURSE_MIRROR", "").strip() or None
    if os.environ.get("RNNCOURSE_DATA", "").strip():
        cache += " (RNNCOURSE_DATA)"
    else:
        cache += " (default; set RNNCOURSE_DATA to move it)"
    if mirror is None:
        return cache, "none (RNNCOURSE_MIRROR is not set: datasets come from their official homes)"
    if "://" not in mirror and not os.path.isdir(mirror):
        mirror += " (no such folder: downloads will fall back to the official homes)"
    return cache, mirror


def collect() -> tuple[dict[str, str], list[str]]:
    """The facts, in print order, and the problems found (each a sentence)."""
    import torch
    import torch.distributed as dist

    from rnncourse import __version__
    from rnncourse.runtime.device import _amp_dtype, _cpu_count, _mps_available, device_reason, get_device, loader_kwargs
    from rnncourse.runtime.profiles import get_profile, profile_source
    from rnncourse.runtime.threads import choose_threads

    facts: dict[str, str] = {}
    problems: list[str] = []
    facts["rnncourse"] = __version__
    facts["python"] = f"{platform.python_version()} ({sys.executable})"
    build = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "CPU-only build"
    facts["torch"] = f"{torch.__version__} ({build})"
    try:
        device = get_device()
        facts["device"] = f"{device}: {device_reason()}"
    except (RuntimeError, ValueError) as error:
        device = None
        facts["device"] = f"ERROR: {error}"
        problems.append(str(error))

    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        facts["CUDA"] = f"available: {count} GPU(s), CUDA {torch.version.cuda}, cuDNN {cudnn or 'not available'}"
        for i in range(count):
            props = torch.cuda.get_device_properties(i)
            try:
                free = f" ({torch.cuda.mem_get_info(i)[0] / 2**30:.1f} GiB free)"
            except RuntimeError:
                free = ""
            facts[f"GPU {i}"] = (f"{props.name}, {props.total_memory / 2**30:.1f} GiB{free}, compute capability "
                                 f"{props.major}.{props.minor}, {props.multi_processor_count} SMs")
    else:
        why = ("this torch is a CPU-only build" if torch.version.cuda is None
               else "no GPU is visible to this torch (check nvidia-smi, the driver, CUDA_VISIBLE_DEVICES)")
        facts["CUDA"] = f"not available: {why}"
    built = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_built()
    facts["MPS"] = "available (Apple GPU)" if _mps_available() else (
        "not available" + ("" if built else ": this torch was built without MPS"))
    if not torch.cuda.is_available() and not _mps_available():
        facts["GPU"] = "none: training runs on the CPU (the cpu profile sizes the chapters for it)"
    elif _mps_available() and not torch.cuda.is_available():
        facts["GPU"] = "Apple GPU (MPS), sharing the system memory"

    count = torch.get_num_threads()
    facts["CPU"] = (f"{count} torch thread{'' if count == 1 else 's'}, {_cpu_count()} cores usable, "
                    f"{platform.machine() or 'unknown architecture'}")
    try:
        threads, why = choose_threads()
        facts["threads"] = (f"{threads} for each chapter and check, decided now: {why} "
                            f"(RNNCOURSE_THREADS=N sets the number)")
    except ValueError as error:  # RNNCOURSE_THREADS is not a number
        facts["threads"] = f"ERROR: {error}"
        problems.append(str(error))
    if device is not None:
        if device.type == "cuda":
            scaler = " with a gradient scaler" if _amp_dtype(device) == torch.float16 else ""
            dtype = str(_amp_dtype(device)).replace("torch.", "")
            facts["mixed precision"] = f"fit(amp=True) uses {dtype} autocast{scaler}"
        else:
            facts["mixed precision"] = f"off by default on {device.type}: fit(amp=True) trains in float32"
        kwargs = loader_kwargs(device)
        facts["DataLoader"] = ", ".join(f"{k}={v}" for k, v in kwargs.items()) + " (rnncourse.runtime.device.loader_kwargs)"
    backends = [name for name, ok in (("gloo", dist.is_available() and dist.is_gloo_available()),
                                      ("nccl", dist.is_available() and dist.is_nccl_available())) if ok]
    facts["torchrun backends"] = ", ".join(backends) or "none (torch.distributed is not available)"
    try:
        facts["profile"] = f"{get_profile()} ({profile_source()})"
    except ValueError as error:
        facts["profile"] = f"ERROR: {error}"
        problems.append(str(error))
    facts["data cache"], facts["data mirror"] = _data_folders()
    return facts, problems


def run(args) -> int:
    facts, problems = collect()
    if getattr(args, "json", False):
        print(json.dumps(facts, indent=2))
    else:
        width = max(map(len, facts))
        for key, value in facts.items():
            print(f"{key:<{width}}  {value}")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0
