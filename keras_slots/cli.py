"""Shared plumbing for the absl programs in scripts/: quiet logs and one-line errors."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


USAGE_ERROR = 2  # Exit status of a bad flag, whether absl or the program rejects it.


def run(main):
    """Runs an absl main; expected errors become one line on stderr.

    Bad flags exit with status 2 and one line `error: bad flag: ...`, whether absl rejects
    them while parsing (unknown flag, wrong type, missing required flag, value out of an
    enum) or the program does (app.UsageError); other expected errors exit with status 1,
    among them TensorFlow errors raised while reading data (e.g. a file shorter than its
    split).

    Args:
        main: the program's `main(argv)`.
    """
    from absl import app

    def guarded(argv):
        try:
            code = handled(argv)
        except SystemExit as e:
            code = e.code
        _exit_now(code)

    def handled(argv):
        from absl import logging

        logging.set_verbosity(logging.WARNING)
        try:
            return main(argv)
        except app.UsageError as e:
            _bad_flag(e)
        except (ValueError, OSError, RuntimeError) as e:
            print(f"error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
            sys.exit(1)
        except Exception as e:  # noqa: BLE001 - only TensorFlow's OpError is handled.
            tf = sys.modules.get("tensorflow")
            if tf is None or not isinstance(e, tf.errors.OpError):
                raise
            print(f"error: {type(e).__name__}: {_op_error_line(e)}", file=sys.stderr)
            sys.exit(1)

    app.run(guarded, flags_parser=_parse_flags)


def _exit_now(code):
    """Ends the process with `code` (None: 0) once output is flushed, skipping interpreter
    shutdown: a tf.data thread still running a Python generator (the CLEVR renderer) can
    never take the interpreter lock back once shutdown has begun, and the process would
    hang after its work is done. Checkpoints and summaries are already written by then."""
    from absl import logging

    logging.flush()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message") prints the message, exits 1.
        print(code, file=sys.stderr)
        sys.stderr.flush()
        code = 1
    os._exit(code)


def _parse_flags(argv):
    """absl's flag parsing, with its errors turned into one line and status 2."""
    from absl import flags

    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        _bad_flag(e)


def _bad_flag(error):
    print(f"error: bad flag: {_one_line(error)} (see --helpshort)", file=sys.stderr)
    sys.exit(USAGE_ERROR)


def require_at_least_one(*flag_holders):
    """Raises app.UsageError naming the first set flag whose value is below 1.

    Args:
        flag_holders: absl FlagHolders of integer flags (unset ones, None, are skipped).
    """
    from absl import app

    for flag in flag_holders:
        if flag.value is not None and flag.value < 1:
            raise app.UsageError(f"--{flag.name} must be >= 1, got {flag.value}")


def _op_error_line(error):
    """The message line of a TensorFlow OpError, without the graph traceback around it."""
    lines = [line for line in str(error.message).splitlines()
             if line.strip() and not line.startswith((" ", "\t", "Graph execution error",
                                                       "Detected at node"))]
    text = (lines[-1] if lines else repr(error)).split(" [Op:", 1)[0].strip()
    if "expected to contain" in text:
        text += (" A data file holds fewer records than its split: write it with "
                 "scripts/make_dataset.py (which records the split sizes beside it).")
    return text


def _one_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else repr(error)


def run_program(module):
    """Runs the program `module` (one of keras_slots.scripts) as the main program: its flags
    are the ones `--help` lists, its `main` runs under `run`."""
    from absl import flags

    for flag in flags.FLAGS.get_key_flags_for_module(module):  # --help lists them.
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    run(module.main)


def _console_command(name):
    """The console command of the program keras_slots.scripts.<name>."""

    def command():
        import importlib

        run_program(importlib.import_module(f"keras_slots.scripts.{name}"))

    command.__name__ = command.__qualname__ = name
    command.__doc__ = f"Runs the program keras_slots.scripts.{name} (scripts/{name}.py)."
    return command


# Console commands declared in pyproject.toml's [project.scripts].
SCRIPTS = ("train", "evaluate", "export", "predict", "visualize", "make_dataset", "check_data",
           "show_datasets", "benchmark", "time_to_accuracy", "import_checkpoint")
train = _console_command("train")
evaluate = _console_command("evaluate")
export = _console_command("export")
predict = _console_command("predict")
visualize = _console_command("visualize")
make_dataset = _console_command("make_dataset")
check_data = _console_command("check_data")
show_datasets = _console_command("show_datasets")
benchmark = _console_command("benchmark")
time_to_accuracy = _console_command("time_to_accuracy")
import_checkpoint = _console_command("import_checkpoint")  # keras-slots-import
