"""`fast-style-train`: Hydra's command line over `fast_style.training.train.train`.

Configuration mistakes end in one line and exit code 2, and a refused run (or one stopped while it loads) leaves no
folder of its own behind; in a multirun the other runs go on and the failed ones are listed at the end (exit code 1).
HYDRA_FULL_ERROR=1 shows Hydra's full reports. Own config folders: `--config-dir DIR` (searched before the
built-in configs) or `hydra.searchpath=[file://DIR]`.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Any

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from fast_style.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USER_ERROR, Terminated, run_tool
from fast_style.command_line import command_options
from fast_style.errors import UserError
from fast_style.plurals import counted
from fast_style.runs import launch_folders, ranks
from fast_style.runs.config import CONFIG_DIR, register
from fast_style.runs.config_mistakes import check_added, not_yaml, one_line

log = logging.getLogger(__name__)

# set by main(): whether to re-raise; a sweep's failed runs, and the folders of those refused in a new folder
_FULL_ERROR: dict = {"on": False, "failed": [], "refused": []}
_STARTED: dict = {"run": False, "trained": 0}  # a run's folder made and the task called; the runs that trained


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def _hydra_main(cfg: DictConfig) -> None:
    from hydra.errors import InstantiationException

    _STARTED["run"] = True  # the run's folder is made: an OSError from here on is the run's own
    out = Path(HydraConfig.get().runtime.output_dir)
    # this launch's files go where nothing else is there: the whole folder where this launch made it; in a folder
    # that was there before (empty: it gained .hydra/ and train.log), or where that is not known, only its files
    # (nothing here loads torch or Lightning: a stop while they load finds this known)
    logs = launch_folders.run_logs(out)  # named now: at a sweep's end, the job log open is the last run's
    made = launch_folders.made_by_this_launch(out)
    new_logs = launch_folders.log_is_new(logs)
    fresh = launch_folders.holds_only_this_launch(out, logs) and (made is True or new_logs)
    # what a refusal before the first step removes: a folder of its own, else what it added
    refused = (out, made is True, logs) if fresh else (out, None, logs if new_logs else [])
    # with the user's hydra.* settings (hydra.run.dir: where a resume must point), not the hydra.mode Hydra adds
    given = [o for o in HydraConfig.get().overrides.hydra if not o.startswith("hydra.mode=")]
    sweep = ["-m"] if HydraConfig.get().mode == RunMode.MULTIRUN else []
    launch = " ".join(sweep + given + list(HydraConfig.get().overrides.task))
    launch = launch or "(the defaults)"
    _into_run_log(f"launch: fast-style-train {launch}", logging.INFO)  # the log says what ran (the terminal knows)
    held = None
    try:
        if HydraConfig.get().job.chdir:  # (relative paths were the run folder's: "style image 'wave.jpg' not found")
            raise UserError(
                "hydra.job.chdir=true would read style.image, data.root and every other relative path from inside the "
                "run's folder: leave it false (the run writes into its folder all the same)"
            )
        check_added(cfg, list(HydraConfig.get().overrides.task))  # `+max_steps=5`: read by nothing
        from fast_style.training.train import train  # torch and Lightning: only once a run starts

        held = _lock_resolved_folder(out)
        try:
            train(cfg)  # (a batch or size that does not fit: a UserError, one line)
        except KeyboardInterrupt as e:  # a Ctrl-C once a single run is over (train() says; a sweep's stops the sweep)
            if sweep or isinstance(e, Terminated) or not getattr(e, "run_finished", False):
                raise
        _STARTED["trained"] += 1
        if not sweep and threading.current_thread() is threading.main_thread():
            # the run is over, its last line said: a Ctrl-C from here on made it "interrupted", exit code 130 (set
            # back as it was at _launch's end; run_tool keeps it ignored in the exit)
            _STARTED["ctrl_c"] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP before training took them over (torch loading)
        if refused:
            launch_folders.remove_refused_run(*refused)
        raise
    except (UserError, InstantiationException, OmegaConfBaseException) as e:  # also in the run's log (a sweep's)
        from fast_style.runs.launch import in_multirun

        if _FULL_ERROR["on"]:
            raise
        if getattr(e, "after_training_started", False):  # (a loss gone NaN): the run's folder is its record
            refused = None
        message = one_line(e, sys.argv[1:])
        _into_run_log(f"error: {message}")
        if ranks.started_by_lightning():  # the same mistake on every rank (the data's set-up): its rank 0 says it
            time.sleep(_RANK_ZERO_FIRST_S)  # and kills this process meanwhile; a mistake of this rank's own is said
        print(f"error: {message}", file=sys.stderr)  # plain, as every tool's (a progress bar's line is ended: its
        # on_exception, progress_bar.ProgressBar)
        if not in_multirun():
            if refused:
                launch_folders.remove_refused_run(*refused)
            sys.exit(EXIT_USER_ERROR)
        _FULL_ERROR["failed"].append(f"#{HydraConfig.get().job.num}: {message}")  # as Hydra numbers the runs
        if refused:  # kept, with its log saying why, unless every run of the sweep is refused (`_launch`)
            _FULL_ERROR["refused"].append(refused)
    except Exception:  # a crash: its traceback goes to the terminal (Hydra's report) and into the run's log
        _into_run_log(f"error: the run crashed:\n{traceback.format_exc().rstrip()}")
        raise
    finally:
        if held is not None:
            held.close()


_RANK_ZERO_FIRST_S = 5.0  # how long another rank's error waits for its rank 0's (which ends it) before it is said


def _into_run_log(line: str, level: int = logging.ERROR) -> None:
    """`line` into the run's own log file (Hydra's job logging) only: the console gets it plain, or not at all."""
    record = log.makeRecord(log.name, level, __file__, 0, line, (), None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


_KEY = re.compile(r"(\+{0,2}[A-Za-z_][\w.]*(?:@[\w.:]+)?)=(.*)", re.DOTALL)


def as_paths(args: list[str]) -> list[str]:
    """Overrides whose value is a path Hydra's grammar refuses unquoted, quoted for it: a checkpoint or style model
    training wrote (`checkpoints/step=000400.ckpt`, `style-step=000400.pt`) and a path from home
    (`data.cache_dir=~/...`, which the shell leaves as it is after `=`: expanded here, as the shell would at the start
    of a word), and a file name Hydra's grammar refuses (`style.image=painting (1).jpg`). Values with Hydra's own
    syntax (sweeps, lists, interpolations, quotes) are left to it."""
    out = []
    for arg in args:
        match = _KEY.fullmatch(arg)
        value = match.group(2) if match else ""
        # a value holding '=' is never valid Hydra unquoted, so only quotes and interpolations of its own stay its;
        # one from home may be a sweep or a list (`~/a,~/b`), so that syntax stays Hydra's too
        quoted = "'" in value or '"' in value or "${" in value
        home = value.startswith("~") and not any(c in value for c in ",()[]{}$")
        if match and not quoted and ("=" in value or home or _a_name_hydra_refuses(value, match.group(1))):
            arg = f"{match.group(1)}='{os.path.expanduser(value)}'"
        out.append(arg)
    return out


def hydra_options() -> dict[str, Any]:
    """Hydra's command-line flags, each with its argparse action, from Hydra's own parser: no public API lists them,
    so this is the one place fast-style reads `hydra._internal` (tests/test_train.py checks it). Empty where an
    upgrade moved it: Hydra's own words then, as before."""
    try:
        from hydra._internal.utils import get_args_parser

        return {name: action for action in get_args_parser()._actions for name in action.option_strings}
    except (ImportError, AttributeError):
        return {}


def _read_flags(args: list[str], takes: dict[str, Any]) -> list[tuple[str, str]] | None:
    """Each argument with what it is to Hydra's parser: "flag" (one of its options, or an unknown one), "value" (the
    value a flag before it takes) or "override" (also everything after `--`, argparse's end of options); None where
    a flag's value is missing (`--config-dir` last, or before another flag: argparse's "expected one argument")."""
    read, i = [], 0
    while i < len(args):
        arg, i = args[i], i + 1
        if arg == "--":
            return [*read, (arg, "flag"), *((a, "override") for a in args[i:])]
        if not arg.startswith("-"):
            read.append((arg, "override"))
            continue
        read.append((arg, "flag"))
        action = takes.get(arg)  # (`--cfg=job` holds its value; an unknown flag is argparse's to say)
        given = i < len(args) and not args[i].startswith("-")  # (argparse takes no `-x` as a value either)
        if action is not None and action.nargs is None and not given:
            return None
        if action is not None and given:
            if action.nargs is None or (action.nargs == "?" and args[i] in (action.choices or ())):
                read.append((args[i], "value"))
                i += 1
    return read


def options_first(args: list[str]) -> list[str]:
    """Hydra's flags (with their values) before the overrides, each in its own order: its parser takes the
    overrides as one run only, so a flag between two (`style.image=a.jpg -m loss.style_weight=2,5`, `... --config-dir
    my_configs model=wide`) was "unrecognized arguments: loss.style_weight=2,5", naming a valid setting."""
    takes = hydra_options()
    read = _read_flags(args, takes) if takes and "--" not in args else None  # (after `--`: left as given)
    if read is None:
        return args
    return [a for a, kind in read if kind != "override"] + [a for a, kind in read if kind == "override"]


_PATH_KEYS = {
    *("root", "val_root", "cache_dir", "image", "dir", "dirpath", "path", "ckpt_path", "init_from", "weights"),
    "teacher",  # distill.teacher=runs (2): a run's folder, as module.init_from takes one
    "filename",  # callbacks.checkpoint.filename=ckpt-{step}: Lightning's template ("mismatched input '{'")
}


def _a_name_hydra_refuses(value: str, key: str = "") -> bool:
    """A file name Hydra's grammar cannot read unquoted but can quoted: `painting (1).jpg`, `wave[1].jpg` (Hydra's
    "mismatched input '.' expecting <EOF>"), and a folder's: `data.root=Фото` or `photos (2)` (its lexer's error);
    its own syntax (`range(1,5)`, `a,b`, `[1,2]`) reads as it is where the setting is not a path."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    try:
        parser.parse_override(f"k={value}")
        return False
    except Exception:
        try:
            parser.parse_override(f"k='{value}'")
            # a file's name or path, not a mistake in Hydra's syntax: with an extension or a folder in it, named by a
            # path setting, or a word without Hydra's signs (non-ASCII letters: a number setting then says its type)
            named = key.split(".")[-1].lstrip("+") in _PATH_KEYS and "," not in value  # (a sweep: Hydra's to say)
            return "." in value or os.sep in value or named or not any(c in value for c in ",()[]{}:*")
        except Exception:
            return False


_WRITES_NOTHING = {"-h", "--help", "--hydra-help", "--cfg", "--info", "--resolve", "--shell-completion"}
_USERS_FULL_ERROR = "FAST_STYLE_USERS_HYDRA_FULL_ERROR"  # the user's HYDRA_FULL_ERROR, for the DDP ranks started
_LOCKED: dict = {}  # the folder whose lock main() took before Hydra (not taken again: closing it would end it)


def _lock_named_folder(argv: list[str]) -> IO | None:
    """The lock of the run's (or sweep's) folder where the command names one (`hydra.run.dir=runs/wave`); a
    folder made from the time and process id (the default) is this launch's alone. Not in the processes DDP
    starts for the other ranks, which run in their rank 0's folder."""
    named = launch_folders.named_run_folder()
    if named is None or ranks.another_rank():
        return None
    if any(a.split("=")[0] in _WRITES_NOTHING or a.startswith(("-c", "-i", "-sc")) for a in argv):  # --cfg=job
        return None
    from fast_style.runs.run_lock import lock_run_folder

    kind, folder = named
    lock = lock_run_folder(folder, f"hydra.{kind}.dir={folder}")
    if lock is not None:
        _LOCKED["folder"] = folder.resolve()
    return lock


def _lock_resolved_folder(out: Path) -> IO | None:
    """The lock of the folder this run trains in, as Hydra resolved it: a folder set in a config file or through
    an interpolation, and a sweep's run folder (one launch ran into a running sweep's `<sweep>/0`), which the lock
    taken before Hydra (the folder named on the command line) does not cover. Refused here, Hydra has already
    written this launch's settings into the folder: the running run's own, where it has kept them, are put back."""
    if _LOCKED.get("folder") == out.resolve() or ranks.another_rank():
        return None
    from fast_style.runs.launch import restore_last_launch
    from fast_style.runs.run_lock import lock_run_folder

    try:
        return lock_run_folder(out, f"the run's folder {out}")
    except UserError:
        restore_last_launch(out / ".hydra")
        raise


def _torchrun_rank(argv: list[str]) -> list[str]:
    """The command line of a process torchrun started: it starts every rank itself, with the same command, and
    each rank's Hydra made a run folder of its own from the time and its process id (rank 0's run in one, rank 1's
    settings and log in another beside it), or in a folder named on the command line wrote its settings and log over
    rank 0's. The folder must be named; there another rank's log is train_ddp_process_N.log and its settings are
    rank 0's, as under Lightning's own launcher."""
    world = os.environ.get("WORLD_SIZE", "1")
    if "TORCHELASTIC_RUN_ID" not in os.environ or not world.isdigit() or int(world) < 2:
        return argv
    if launch_folders.launch_kind() == "sweep" or any(
        a.split("=")[0] in _WRITES_NOTHING or a.startswith(("-c", "-i", "-sc")) for a in argv
    ):
        return argv
    if launch_folders.named_run_folder() is None:
        raise UserError(
            "under torchrun each process starts the run: name its folder, the same for every process (and node), "
            "with hydra.run.dir=DIR"
        )
    rank = os.environ.get("RANK", "0")
    return argv if rank == "0" else [*argv, f"hydra.job.name=train_ddp_process_{rank}", "hydra.output_subdir=null"]


def _check_run_folders(argv: list[str]) -> None:
    """An empty run or sweep folder (`hydra.run.dir=$UNSET`) is refused: Hydra took it as the current folder and
    wrote the run's files among whatever is there. So is the folder of the other kind of launch alone (a sweep's
    `-m hydra.run.dir=runs/a`): Hydra does not read it, and the runs went to multirun/<date>/<time>-<pid>."""
    given = set()
    for arg in argv:
        key, _, value = arg.lstrip("+~").partition("=")
        given.add(key)
        if key in ("hydra.run.dir", "hydra.sweep.dir") and not value.strip().strip("'\"").strip():
            raise UserError(
                f"{key} is empty (an unset shell variable?): give the run's folder, or leave it out for "
                f"{'outputs' if key == 'hydra.run.dir' else 'multirun'}/<date>/<time>-<pid>"
            )
    if any(a.split("=")[0] in _WRITES_NOTHING or a in ("-c", "-i", "-sc") for a in argv):  # (not -cd DIR)
        return
    sweep = "-m" in argv or "--multirun" in argv or "hydra.mode=MULTIRUN" in argv
    if sweep and "hydra.run.dir" in given and "hydra.sweep.dir" not in given:
        raise UserError(
            "a sweep (-m) does not read hydra.run.dir, a single run's folder: give hydra.sweep.dir=DIR (its runs go "
            "in DIR/0, DIR/1, ...)"
        )
    if not sweep and "hydra.sweep.dir" in given and "hydra.run.dir" not in given:
        raise UserError(
            "a single run does not read hydra.sweep.dir, a sweep's folder: give hydra.run.dir=DIR (or add -m for a "
            "sweep)"
        )


def main() -> None:
    """`fast-style-train`: Hydra's command line in the frame every tool shares (`run_tool`: Ctrl-C, SIGTERM and
    SIGHUP while torch and Lightning load, a closed pipe, `error: ...`); see the module's docstring for exit codes."""
    sys.argv[1:] = options_first(as_paths(sys.argv[1:]))
    if "--version" in sys.argv[1:]:  # Hydra's flag printed "Hydra 1.3.8" alone, as though that were the tool's
        from fast_style import __version__

        print(f"fast-style-train {__version__} (Hydra {hydra.__version__})")
        return
    if ranks.started_by_lightning():  # its rank 0 decides when to stop, and stops it (a Ctrl-C reaches every process)
        for stop in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if stop is not None:
                signal.signal(stop, signal.SIG_IGN)
        ranks.end_with_rank_zero()
    if "--hydra-help" in sys.argv:  # Hydra's own help composes only its own settings: the run's are beside the point
        sys.argv[1:] = [a for a in sys.argv[1:] if "=" not in a or a.lstrip("+~").startswith("hydra.")]
    previous, inherited = os.environ.get("HYDRA_FULL_ERROR"), os.environ.get(_USERS_FULL_ERROR)
    # the user's own setting: a DDP rank Lightning starts inherits the environment this process set (below), and
    # took its HYDRA_FULL_ERROR=1 for the user's (a rank's traceback before the one line)
    users = inherited if inherited is not None else (previous or "")
    _FULL_ERROR.update(on=users == "1", failed=[], refused=[])
    _STARTED.update(run=False, trained=0)
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra re-raises instead of printing several lines; we print one
    os.environ[_USERS_FULL_ERROR] = users
    try:
        # (the run's own logging is Hydra's job logging; HYDRA_FULL_ERROR=1: a mistake's traceback too)
        command_options(frozenset())  # Hydra's command line: no option of another tool's is named as a remedy
        code = run_tool(_launch, logging.WARNING, tracebacks=_FULL_ERROR["on"], plain_log=True)
    finally:
        if previous is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = previous
        if inherited is None:
            os.environ.pop(_USERS_FULL_ERROR, None)
    if code != EXIT_OK:  # (returns where it is done: main() called from a program)
        sys.exit(code)


# the settings that the other tools' options name (fast-style-optimize -s painting.jpg, --iterations, ...)
_AS_SETTINGS = {
    "-s": "style.image=PAINTING",
    "--style": "style.image=PAINTING",
    "--steps": "trainer.max_steps=N",
    "--max-steps": "trainer.max_steps=N",
    "--iterations": "trainer.max_steps=N",
    "--data": "data.root=FOLDER",
    "--photos": "data.root=FOLDER",
    "--image-size": "data.image_size=PX",
    "--size": "data.image_size=PX",
    "--batch-size": "data.batch_size=N",
    "--lr": "module.lr=X",
}


def _check_options(args: list[str]) -> None:
    """An option Hydra's command line does not have (--style wave.jpg, as the other tools take it): argparse's usage,
    a dozen lines, and "unrecognized arguments", without a word of how a setting is given."""
    known = hydra_options()
    read = _read_flags(args, known) if known else None  # (moved by a Hydra upgrade: Hydra's own words, as before)
    for arg in (a for a, kind in read or () if kind == "flag" and a != "--"):
        name = arg.partition("=")[0]
        attached = not arg.startswith("--") and arg[:2] in known  # a short flag and its value in one (-cjob)
        if arg.startswith("-") and name not in known and not attached:
            example = _AS_SETTINGS.get(name, "style.image=wave.jpg trainer.max_steps=2000")
            raise UserError(
                f"{name} is not an option of fast-style-train: settings go in as key=value, e.g. {example} "
                "(fast-style-train --help lists them)"
            )


def _launch() -> int:
    """Hydra's launch of the run (or sweep), its mistakes as UserError; the exit code of a sweep with failed runs."""
    from hydra.errors import HydraException

    launch_folders.note_run_parents(sys.argv[1:])
    _LOCKED.clear()
    lock = None
    try:
        _check_options(sys.argv[1:])
        _check_run_folders(sys.argv[1:])
        sys.argv[1:] = _torchrun_rank(sys.argv[1:])
        lock = _lock_named_folder(sys.argv[1:])
        register()  # (the groups' schemas: torch and Lightning are imported where they are not cached)
        if any(a in ("--info", "-i") or a.startswith("--info=") for a in sys.argv[1:]):
            # Hydra's --info adds a console of its own (stdout) and lowers the root's level to DEBUG: the console's
            # (stderr, run_tool's) said each of its lines again
            for handler in logging.getLogger().handlers:
                handler.setLevel(max(handler.level, logging.WARNING))
        _hydra_main()
    except (UserError, HydraException, OmegaConfBaseException) as e:
        if _FULL_ERROR["on"]:
            raise
        launch_folders.remove_refused_sweep(sys.argv[1:])
        raise UserError(one_line(e, sys.argv[1:])) from e
    except yaml.YAMLError as e:  # a config file of one's own (--config-dir) that is not YAML: a page of traceback
        if _FULL_ERROR["on"]:
            raise
        launch_folders.remove_refused_sweep(sys.argv[1:])
        raise UserError(not_yaml(e)) from e
    except (FileExistsError, NotADirectoryError) as e:  # a file where the run's folder must go (hydra.run.dir)
        if _FULL_ERROR["on"]:
            raise
        raise UserError(
            f"cannot make a folder at {e.filename}: a file is in the way; choose another "
            f"hydra.{launch_folders.launch_kind()}.dir (or move the file)"
        ) from e
    except ValueError as e:  # Hydra's logging opening the run's log: "Unable to configure handler 'file'"
        cause = e.__cause__
        if not _FULL_ERROR["on"] and not _STARTED["run"] and str(e).startswith("Only one of --run"):
            raise UserError(
                "--run, --multirun (-m), --cfg, --info and --shell-completion do not go together: give one of them"
            ) from e
        if _FULL_ERROR["on"] or _STARTED["run"] or not isinstance(cause, OSError) or not cause.filename:
            raise
        raise UserError(
            f"cannot write the run's log {cause.filename}: {cause.strerror}; choose another hydra.run.dir "
            "(hydra.sweep.dir for a sweep)"
        ) from e
    except OSError as e:  # Hydra making the run's folder: read-only, no permission (/sys/run: a traceback)
        if _FULL_ERROR["on"] or _STARTED["run"] or not e.filename:
            raise
        raise UserError(
            f"cannot make the run's folder {e.filename}: {e.strerror}; choose another hydra.run.dir "
            "(hydra.sweep.dir for a sweep)"
        ) from e
    finally:
        if lock is not None:
            lock.close()
        if (ctrl_c := _STARTED.pop("ctrl_c", None)) is not None:
            signal.signal(signal.SIGINT, ctrl_c)
    if not _FULL_ERROR["failed"]:
        return EXIT_OK
    launch_folders.restore_sweep_record(_STARTED["trained"])
    failed = _FULL_ERROR["failed"]
    print(f"error: {counted(len(failed), 'run')} failed: " + "; ".join(failed), file=sys.stderr)
    if _STARTED["trained"]:
        return EXIT_PARTIAL
    # none trained: not "done in part", and a sweep refused whole leaves no folder behind, as a refused run
    for refused in _FULL_ERROR["refused"]:
        launch_folders.remove_refused_run(*refused)
    launch_folders.remove_refused_sweep(sys.argv[1:])
    return EXIT_USER_ERROR


if __name__ == "__main__":
    main()
