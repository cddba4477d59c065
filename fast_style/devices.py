"""Where and in what precision the network runs: the device a user asks for (or the best present), and the
compute dtype that measured fastest there (benchmarks/README.md)."""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable

import torch

from fast_style.errors import UserError, option_note, setting
from fast_style.inference_defaults import PRECISIONS

log = logging.getLogger(__name__)

# the torch dtype of each precision name (what a Stylizer takes as `dtype`)
DTYPES = dict(zip(PRECISIONS, (torch.float32, torch.bfloat16, torch.float16), strict=True))


def native_bf16(device_type: str | None = None) -> bool:
    """Whether `device_type` ("cuda", "cpu"; None: CUDA if present, else the CPU) computes bf16 natively:
    an Ampere or newer GPU, or a CPU with AVX512-BF16 or AMX (where bf16 autocast about halves conv time)."""
    if device_type is None:
        device_type = "cuda" if torch.cuda.is_available() else "cpu"
    if device_type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()) and torch.backends.mkldnn.is_available()
    except (AttributeError, RuntimeError):
        return False


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def pick_device(device: str | torch.device | int | None = "auto") -> torch.device:
    """ "auto" (or None): CUDA, else MPS, else the CPU; otherwise the device named ("cpu", "cuda:1", a torch.device,
    or a GPU's index as torch takes it: 0 is cuda:0), refused in one line if absent."""
    if isinstance(device, bool) or not isinstance(device, (str, torch.device, int, type(None))):
        raise TypeError(
            f"device must be a name (auto, cpu, cuda, cuda:N or mps), a torch.device or a GPU's index, not {device!r}"
        )
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise UserError(f"unknown device '{device}': use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type not in ("cpu", "cuda", "mps"):  # xpu, meta, hpu, ...: torch names them, fast-style does not run there
        raise UserError(f"device '{device}' is not one fast-style runs on: use auto, cpu, cuda, cuda:N or mps")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(
            f"device {dev} asked for, but no CUDA GPU is available: use cpu ({setting('--device', 'device', 'cpu')})"
        )
    if dev.type == "mps" and not _mps_available():
        raise UserError(
            f"device {dev} asked for, but MPS is not available: use cpu ({setting('--device', 'device', 'cpu')})"
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= (count := torch.cuda.device_count()):
        # (torch's "CUDA error: invalid device ordinal", several lines, at the first tensor moved there)
        gpus, there = ("GPU", "cuda:0") if count == 1 else ("GPUs", f"cuda:0 to cuda:{count - 1}")
        raise UserError(f"device {dev} asked for, but this machine has {count} CUDA {gpus}: use {there}")
    return dev


def pick_precision(precision: str, device: torch.device, compile: bool = False) -> torch.dtype:
    """ "auto" picks what measured fastest (benchmarks/README.md): on a GPU fp16 eagerly (bf16 autocast is
    slower than fp32 there: its casts cost more than it saves) and bf16 compiled; on a CPU bf16 where native."""
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if compile and native_bf16("cuda") else torch.float16
        return torch.bfloat16 if device.type == "cpu" and native_bf16("cpu") else torch.float32
    if precision not in PRECISIONS:
        raise UserError(f"unknown precision '{precision}': choose auto, {', '.join(PRECISIONS)}")
    if precision == "fp16" and device.type == "cpu":
        raise UserError(f"fp16 is not supported on the CPU: use precision bf16 or fp32{option_note('--precision')}")
    if precision == "bf16" and device.type == "cpu" and not native_bf16("cpu"):
        log.warning("this CPU has no native bf16 (AVX512-BF16 or AMX): bf16 runs emulated, slower than fp32")
    return DTYPES[precision]


def pick_dtype(precision: str | torch.dtype, device: torch.device, compile: bool = False) -> torch.dtype:
    """`pick_precision` of a precision's name or of its torch dtype, as a Stylizer takes either."""
    if isinstance(precision, torch.dtype) or not isinstance(precision, str):
        name = next((k for k, v in DTYPES.items() if v == precision), None)
        if name is None:  # (an integer type ran as garbage)
            said = f"dtype must be one of {', '.join(map(str, DTYPES.values()))} (or auto, {', '.join(PRECISIONS)})"
            if not isinstance(precision, torch.dtype):
                raise TypeError(f"{said}, not {precision!r}")
            raise UserError(f"{said}, got {precision}")
        precision = name
    return pick_precision(precision, device, compile)


class _NoCudaNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("No CUDA runtime is found")


def quiet_cuda_notice() -> None:
    """A compile on the CPU imports torch's C++ extension helper, which warns on every run that it found no CUDA
    runtime: left out (its other messages stay)."""
    logger = logging.getLogger("torch.utils.cpp_extension")
    if not any(isinstance(f, _NoCudaNotice) for f in logger.filters):
        logger.addFilter(_NoCudaNotice())


def compile_for(fn: Callable, device: torch.device, mode: str | None = None) -> Callable:
    """torch.compile(fn) for `device`, one static graph per input shape. On an x86 CPU inductor writes 256-bit
    (AVX2) vector code: its AVX-512 code for the network's bf16 backward gave NaN gradients from the first
    step on a Xeon with AMX (torch 2.14.1), where the same graphs in fp32, uncompiled, or in 256-bit code train
    normally (benchmarks/README.md)."""
    if device.type == "cpu":
        quiet_cuda_notice()
    if device.type == "cpu" and platform.machine().lower() in ("x86_64", "amd64"):
        options = {**(torch._inductor.list_mode_options(mode) if mode else {}), "cpp.simdlen": 256}
        return torch.compile(fn, dynamic=False, options=options)
    return torch.compile(fn, mode=mode, dynamic=False)
