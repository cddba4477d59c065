"""fast-style: train feed-forward style-transfer networks and run them in real time.

The Python API is the names below, each loaded when first asked for: `import fast_style` alone (the command-line
tools' --help) does not import torch. The modules behind them live in sub-packages by idea (README, "Layout")."""

__version__ = "0.3.0"

# name -> the module that defines it
_API = {
    "Stylizer": "fast_style.inference.stylizer",
    "load_style_model": "fast_style.model.style_model",
    "save_style_model": "fast_style.model.style_model",
    "interpolate": "fast_style.model.interpolation",
    "stylize_video": "fast_style.media.video",
    "stylize_animation": "fast_style.media.animation",
}
__all__ = [*_API, "__version__"]


def __getattr__(name: str) -> object:
    """`from fast_style import Stylizer`: the name's module imported on first use."""
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'fast_style' has no attribute '{name}'")


def __dir__() -> list[str]:
    """The module's names with the lazy API's (tab completion and help() had left them out)."""
    return sorted({*globals(), *_API})
