"""Shared plumbing for the absl programs in scripts/: quiet logs and one-line errors."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def run(main):
    """Runs an absl main; expected errors become one line on stderr.

    Bad flags (app.UsageError) exit with status 2, other expected errors with status 1,
    among them TensorFlow errors raised while reading data (e.g. a file shorter than its
    split).

    Args:
        main: the program's `main(argv)`.
    """
    from absl import app

    def guarded(argv):
        from absl import logging

        logging.set_verbosity(logging.WARNING)
        try:
            return main(argv)
        except app.UsageError as e:
            print(f"error: bad flag: {_one_line(e)} (see --helpshort)", file=sys.stderr)
            sys.exit(2)
        except (ValueError, OSError, RuntimeError) as e:
            print(f"error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
            sys.exit(1)
        except Exception as e:  # noqa: BLE001 - only TensorFlow's OpError is handled.
            tf = sys.modules.get("tensorflow")
            if tf is None or not isinstance(e, tf.errors.OpError):
                raise
            print(f"error: {type(e).__name__}: {_op_error_line(e)}", file=sys.stderr)
            sys.exit(1)

    app.run(guarded)


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
