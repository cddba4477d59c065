"""The command-line tools: each module parses its arguments, plans, and calls the library (which never imports
them). They share one frame, `run_tool`, and one exit-code convention:

    0    done
    1    done in part: some inputs failed, each reported in one line; every other output was written
         (fast-style-stylize's files, fast-style-train's multirun)
    2    stopped by a mistake the user can fix (a bad argument or setting, a missing or unreadable file, a full
         disk, a training loss gone NaN), reported in one line, `error: ...`, without a traceback
    130  interrupted by Ctrl-C (143: SIGTERM, from a scheduler, `kill` or `docker stop`; 129: SIGHUP, the terminal
         closed, an SSH connection lost); no file is left half-written, and training saves a checkpoint first
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import math
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from types import FrameType
from typing import NoReturn

from fast_style.command_line import command_options, restore_command_line, set_command_line
from fast_style.errors import Terminated, UserError, first_line, out_of_memory
from fast_style.numbers import check_number

EXIT_OK, EXIT_PARTIAL, EXIT_USER_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


# stopped the way Ctrl-C stops: SIGTERM, and SIGHUP where there is one (its hidden temporary files had stayed)
STOPS = (signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else []))


def _on_sigterm(signum: int, frame: object) -> None:
    if signal.getsignal(signum) is not _on_sigterm:
        return  # called by a handler that took its place and calls it too (Lightning's): that one stops the run
    raise Terminated(signum)


def stopped(stop: Terminated) -> int:
    """The line a SIGTERM or SIGHUP stop prints, and its exit code (128 + the signal: 143, 129)."""
    signum = signal.Signals(stop.args[0] if stop.args else signal.SIGTERM)
    with contextlib.suppress(OSError):  # (a closed terminal)
        print(f"stopped ({signum.name})", file=sys.stderr)
    return 128 + signum.value


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C: KeyboardInterrupt, as Python's own handler raises it, except inside an import (torch's takes
    seconds): there it is raised once the import is done, in the code that asked for it. Raised in the middle of
    torch's import, it came out as another error (numpy's "cannot load module more than once per process", a
    RecursionError) with a traceback. A second Ctrl-C while the import goes on raises at once."""
    global _deferred
    importer = _importer(frame)
    if importer is None or _deferred:
        _stop_waiting()  # a second Ctrl-C: at once, and the first one's tracing undone
        raise KeyboardInterrupt
    _deferred = True

    def after_the_import(frame: FrameType, event: str, arg: object) -> object:
        if event in ("line", "return", "exception") and _deferred:
            _stop_waiting()
            raise KeyboardInterrupt
        return after_the_import

    _waiting.update(importer=importer, tracer=sys.gettrace())
    importer.f_trace, importer.f_trace_lines = after_the_import, True
    sys.settrace(lambda *args: None)  # tracing on, for the importer's own trace function; other frames untraced


def _stop_waiting() -> None:
    """A deferred Ctrl-C ends: the importer's trace function goes, and the tracer there was before (a debugger's,
    coverage's, or none) is back."""
    global _deferred
    if _deferred:
        importer = _waiting.pop("importer", None)
        if importer is not None:
            importer.f_trace = None
        sys.settrace(_waiting.pop("tracer", None))
    _deferred = False


_waiting: dict = {}  # while a Ctrl-C waits: the importer's frame and the tracer before


_deferred = False  # a Ctrl-C waits for an import to end


def _importer(frame: FrameType | None) -> FrameType | None:
    """The frame whose `import` the interrupted code runs in (that of the outermost import), None outside
    imports."""
    importer = None
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            importer = frame.f_back
        frame = frame.f_back
    return importer


def _quiet_interrupt(kind: type[BaseException], value: BaseException, tb) -> None:
    """Ctrl-C while a tool is still loading (torch's import takes seconds, before `run_tool` is there to catch
    it): one line instead of a traceback through the import machinery; Python still exits as interrupted."""
    if issubclass(kind, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
    else:
        _previous_hook(kind, value, tb)


_previous_hook, sys.excepthook = sys.excepthook, _quiet_interrupt


_GIVEN = "_fast_style_given"  # the namespace's note of the options given so far, removed before a tool reads it


class _StoreOnce(argparse.Action):
    """A plain option's value, refused when it comes twice: argparse would keep the last without a word, so
    `--style wave --style udnie` would stylize with udnie alone."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        given = namespace.__dict__.setdefault(_GIVEN, {})
        if self.dest in given and self.option_strings:  # positionals: argparse fills each once (or with [])
            raise argparse.ArgumentError(
                self, f"given twice ({_shown(given[self.dest])}, then {_shown(values)}): give it once"
            )
        given[self.dest] = values
        setattr(namespace, self.dest, values)


def _shown(values: object) -> str:
    return " ".join(map(str, values)) if isinstance(values, list) else str(values)


class ToolParser(argparse.ArgumentParser):
    """The tools' argument parser: argparse's, except that options and inputs may come in any order and that an
    option holding a value may be given once (flags, and options meant to repeat, action="append" or "extend",
    are argparse's own)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)
        from fast_style import __version__  # (fast-style-train's --version says it as this does)

        self.add_argument("--version", action="version", version=f"%(prog)s {__version__}")

    def error(self, message: str) -> NoReturn:
        """An argument mistake in one line, exit 2 (argparse printed the whole usage, a dozen lines, above it)."""
        self.exit(2, f"{self.prog}: error: {message} ({self.prog} --help lists the options)\n")

    def parse_args(self, args=None, namespace=None):
        """Options and inputs in any order (`a.jpg --style wave b.jpg` is two inputs, not an unknown b.jpg); after
        `--`, every argument is an input, one whose name begins with '-' too (`-- -draft.jpg`), which Python 3.11's
        intermixed parse took for an unknown option: it is given as the same file's ./-name. `--output=~/x.onnx`
        is `--output=$HOME/x.onnx`, as the shell expands `--output ~/x.onnx` (it made a folder named `~`)."""
        args = [_home_expanded(a) for a in (sys.argv[1:] if args is None else args)]
        if "--" in args:
            end = args.index("--")
            args = args[:end] + [os.path.join(os.curdir, a) if a.startswith("-") else a for a in args[end + 1 :]]
        command_options(frozenset())  # (a mistake ends the parse: no earlier tool's options stay for the next)
        parsed = self.parse_intermixed_args(args, namespace)
        command_options(frozenset(self._option_string_actions))  # the remedies a message may name (errors.remedy)
        parsed.__dict__.pop(_GIVEN, None)  # here, not in parse_known_args: Python 3.13's intermixed parse skips it
        if getattr(parsed, "output", None) == "-":  # a folder named '-' was made, the result written into it
            self.error("-o -: the result is written to a file, not to standard output: give a file or a folder")
        return parsed


def positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    """An argparse type: `kind` of the text, refused where not a finite number > 0 (every tool and script)."""

    def parse(text: str) -> float:
        value = kind(text)
        if not math.isfinite(value) or value <= 0:  # (nan and inf: a traceback from the socket's timeout)
            raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")  # (inf is > 0: "finite")
        return value

    parse.__name__ = kind.__name__  # argparse's "invalid int value: 'x'" names the type by it
    return parse


def _home_expanded(arg: str) -> str:
    """`--option=~/path` with the home folder in place of `~` (the shell leaves a `~` after `=` as it is)."""
    option, equals, value = arg.partition("=")
    if not (equals and option.startswith("--") and value.startswith("~")):
        return arg
    return f"{option}={os.path.expanduser(value)}"


def as_warning(text: str) -> str:
    """A warning as every tool says it: `warning: <text>` (a text that already begins with "warning:" as it is; a
    logged one that begins with a file's name, "warnings.jpg: ...", had been taken for one and shown bare)."""
    return text if text.lower().startswith("warning:") else f"warning: {text}"


def _show_a_warning_line(message: Warning | str, category: type[Warning], *_: object, file=None, **__: object) -> None:
    """warnings.showwarning for the tools: `warning: <message>`, as their own warnings read, without the path and
    line of the code that warned (a file in site-packages; Lightning sets warnings.formatwarning to its own when
    imported, so the line is shown here)."""
    with contextlib.suppress(OSError, ValueError):  # (a closed stream: as Python's own, nothing said)
        print(as_warning(str(message).strip()), file=file or sys.stderr)


class _LogLines(logging.Formatter):
    """The tools' log lines: the message alone (no logger's name or level), except that a logged warning begins
    `warning: ` as the tools' printed warnings and Python's warnings do (fast-style-eval's own "--stability-photos
    5, but ..." said it, its skipped GIF's logged line did not: two styles in one tool's output), and a logged error
    (uvicorn's) `error: `, as the tools' errors do."""

    def __init__(self) -> None:
        super().__init__("%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.ERROR:
            return text if text.lower().startswith("error:") else f"error: {text}"  # (not "errors.csv: ...")
        return as_warning(text) if record.levelno >= logging.WARNING else text


def run_tool(
    body: Callable[[], int | None], log_level: int = logging.INFO, tracebacks: bool = False, plain_log: bool = False
) -> int:
    """Run a command's body: a UserError becomes `error: <message>` and exit code 2, Ctrl-C exit code 130 and
    SIGTERM 143 (each with one line, after every file being written is removed), and a reader that stopped early
    (`fast-style-stylize --list-styles | head`) ends it quietly. Log lines go to stderr as messages, a warning's
    beginning `warning: ` (`_LogLines`; `plain_log`: the message alone, fast-style-train's before Hydra's log format,
    which names the level, takes over). `tracebacks`: a UserError is raised as it is (for its traceback:
    fast-style-train under HYDRA_FULL_ERROR=1)."""
    console = logging.StreamHandler()  # (kept only where the program has no logging of its own: basicConfig's rule)
    console.setFormatter(logging.Formatter("%(message)s") if plain_log else _LogLines())
    logging.basicConfig(level=log_level, handlers=[console])
    # torch sets its loggers to warnings when its import ends; stopped during it (a SIGTERM at start-up), its
    # exit hooks' INFO lines ("FakeTensor cache stats: ...") followed the one line a stop prints
    logging.getLogger("torch").setLevel(logging.WARNING)
    main_thread = threading.current_thread() is threading.main_thread()  # (signal handlers are set there only)
    # a signal ignored on start (nohup: SIGHUP) was ignored on purpose: it stays ignored
    stops = [s for s in STOPS if main_thread and signal.getsignal(s) is not signal.SIG_IGN]
    previous = {s: signal.signal(s, _on_sigterm) for s in stops}
    ours = main_thread and signal.getsignal(signal.SIGINT) is signal.default_int_handler  # not SIG_IGN (`cmd &`)
    previous_int = signal.signal(signal.SIGINT, _on_sigint) if ours else None
    was = set_command_line(True)  # a remedy in a message names the option (errors.remedy)
    shown = warnings.showwarning
    if not tracebacks:  # a library's warning (Lightning's) as the tools' own: its source file's path was the first
        warnings.showwarning = _show_a_warning_line  # thing said, `/.../site-packages/pytorch_lightning/...py:106:`
    try:
        return body() or EXIT_OK
    except Terminated as e:
        return stopped(e)
    except BrokenPipeError:  # what is still buffered for the closed pipe goes nowhere, so exiting says nothing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except UserError as e:
        if tracebacks:
            raise
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (RuntimeError, MemoryError) as e:  # a size asked for that does not fit (--style-size 16000)
        if isinstance(e, RuntimeError) and str(e).startswith("Symlink loop from "):  # pathlib's resolve (3.11, 3.12)
            loop = str(e).removeprefix("Symlink loop from ")
            print(f"error: {loop} is a symbolic link that leads back to itself: fix or remove it", file=sys.stderr)
            return EXIT_USER_ERROR
        if not out_of_memory(e):
            raise
        print(f"error: out of memory ({first_line(e, 120)}): ask for smaller sizes", file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        warnings.showwarning = shown
        restore_command_line(was)
        for stop, handler in previous.items():
            if handler is not None:  # (None: one set outside Python)
                signal.signal(stop, handler)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)
        _ignore_ctrl_c_on_exit()


def finished() -> None:
    """A tool's work is done, every output written (or each failure said): a Ctrl-C, SIGTERM or SIGHUP from here to
    its end (its summary line being printed, its contexts closing) is ignored, and it ends with its own exit code; one
    there had ended it as "interrupted", exit code 130, of work all written. The handlers `run_tool` set are set back
    as they were at its end; another's (a program's own) is left alone."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is _on_sigint:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    for stop in STOPS:
        if signal.getsignal(stop) is _on_sigterm:
            signal.signal(stop, signal.SIG_IGN)


def _ignore_ctrl_c_on_exit() -> None:
    """Once the tool is done, a Ctrl-C while the process exits (torch's and Lightning's clean-up) is ignored: it
    landed in an exit callback as Python's "Exception ignored in atexit callback" traceback after the tool's last
    line (or, later in the exit, killed it: exit code 130 for work that was done). Registered after every exit
    callback of the tool's (torch is imported as it runs), so that it runs first; the process exits with the tool's
    own code. Only at the exit: a program that calls a tool's main() keeps its Ctrl-C."""
    atexit.unregister(_no_ctrl_c)  # (a tool run again: registered anew, the last one again)
    atexit.register(_no_ctrl_c)


def _no_ctrl_c() -> None:
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # (a program's own handler stays)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def add_device(parser: argparse.ArgumentParser, default: str = "auto") -> None:
    """--device, for the tools that run a network."""
    parser.add_argument(
        "--device", default=default, help=f"auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps (default {default})"
    )


def add_pixel_limit(parser: argparse.ArgumentParser) -> None:
    """--max-image-pixels, the guard against decompression bombs (Pillow's), for the tools that read pictures."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS or math.inf  # (None: no limit, as a program using the tools may have set it)
    parser.add_argument(
        "--max-image-pixels",
        type=float,
        default=limit,
        help=f"refuse images with more pixels than this (decompression bombs; default {limit:.0f}; inf: no limit)",
    )


@contextlib.contextmanager
def pixel_limit(value: float) -> Iterator[None]:
    """Within: --max-image-pixels checked and made Pillow's limit (None for inf); Pillow's own afterwards (a tool's
    main called from a program, or a test, had left it set for the rest of the process). A whole number of pixels, by
    fast_style.numbers' rule and in its words: 2.5 had been taken as 2 unsaid, 0.5 as 0, which refused every picture
    ("more pixels than ... allows (0: --max-image-pixels)")."""
    from fast_style.media.bomb_guard import pillow_pixel_limit

    takes = "a whole number of pixels >= 1 (inf: no limit)"
    limit = None if value == math.inf else int(check_number("--max-image-pixels", value, lambda v: v >= 1, takes, True))
    with pillow_pixel_limit(limit):
        yield


def run_reading_pictures(
    args: argparse.Namespace, body: Callable[[], int | None], log_level: int = logging.INFO
) -> int:
    """`run_tool(body)` for a tool that reads pictures: its --max-image-pixels is Pillow's limit while it runs."""

    def limited() -> int | None:
        from PIL import Image

        with pixel_limit(args.max_image_pixels), warnings.catch_warnings():  # (checked first; Pillow's own after)
            # a picture over the limit is refused (bomb_guard.BOMB), not let through up to twice it with a warning
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return body()

    return run_tool(limited, log_level)


def check_style_name(name: str) -> None:
    """--style NAME (fast-style-stylize, fast-style-export): a built-in style's name. A file given there (a model
    file, a painting) was "unknown style 'x.pt'... (a style model you trained is given by its file's path)", though
    a path had been given: it is said to be a file (or a folder), and where it goes; a path to no file is said to be
    none, and where a file goes."""
    from pathlib import Path

    from fast_style import zoo

    try:
        a_file = name not in zoo.names() and Path(name).expanduser().is_file()
    except OSError:  # a name too long for a file's: no file
        a_file = False
    if a_file:
        from fast_style.model.style_model import a_picture  # (torch: on this mistake only)

        said = a_picture(name) or f"{name} is a file: give a style model file with --model {name}"
        raise UserError(f"--style takes a built-in style's name; {said}")
    if name in zoo.names():
        return
    try:
        a_folder = Path(name).expanduser().is_dir()
    except OSError:
        a_folder = False
    if a_folder:  # a training run's (its style.pt), which --model takes
        raise UserError(
            f"--style takes a built-in style's name; {name} is a folder: a run's folder goes with --model {name}"
        )
    # a path that leads nowhere (--style runs/sea/style.pt) had "(a style model you trained is given by its file's
    # path)", as if it had not been one; wave.pt and ./wave were not said to be the built-in style
    path = Path(name)
    if "/" in name or os.sep in name or path.suffix:
        if path.parent == Path(".") and path.stem in zoo.names():
            raise UserError(f"--style takes a built-in style's name alone: --style {path.stem}")
        raise UserError(
            f"--style {name}: no such file, and --style takes a built-in style's name ({', '.join(zoo.names())}): "
            "give a style model file with --model FILE"
        )
    raise UserError(
        f"unknown style '{name}'{zoo.near_miss(name)}: the built-in styles are {', '.join(zoo.names()) or 'none'} "
        "(a style model you trained goes with --model FILE)"
    )
