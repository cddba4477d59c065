"""fast-style: train feed-forward style-transfer networks and run them in real time."""

__version__ = "0.2.0"
__all__ = ["Stylizer", "__version__"]


def __getattr__(name: str) -> object:
    """`from fast_style import Stylizer`, loaded when asked for: `import fast_style` alone (the command-line tools'
    --help) does not import torch."""
    if name == "Stylizer":
        from fast_style.stylizer import Stylizer

        return Stylizer
    raise AttributeError(f"module 'fast_style' has no attribute '{name}'")


def __dir__() -> list[str]:
    """The module's names with the lazy `Stylizer` (tab completion and help() had left it out)."""
    return sorted({*globals(), "Stylizer"})
