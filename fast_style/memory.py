"""The memory a piece of work needs (a style image, the VGG loss of a size, a batch), held against what the system
can still give this process: a size too large said in one line before the work. Torch-free."""

from __future__ import annotations

from fast_style.errors import UserError


def free_memory() -> int | None:
    """Bytes of memory the system can still give this process without swapping (Linux's MemAvailable), None
    where unknown (not Linux)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(need: int, what: str, hint: str = "ask for a smaller size") -> None:
    """UserError, before the work, where `what` needs more than the `need` bytes of memory left: on Linux the
    kernel kills a process that takes too much (exit 137, no word), it does not fail its allocation."""
    free = free_memory()
    if free is not None and need > free:
        raise UserError(f"{what} needs about {need / 2**30:.1f} GB of memory, {free / 2**30:.1f} GB are free: {hint}")
