"""A small progress bar: redraws in place on a terminal, prints lines in a log file."""

import sys
import time


class ProgressBar:
    """Shows step / total, rate, ETA and named values.

    Args:
        total: number of steps the run ends at.
        initial: step the run starts (or resumes) at.
        every: print every `every` steps when the output is not a terminal.
        stream: where to write (default stderr).
        unit: what a step is, in the rate ("steps/s").
        label: text before the bar, or None.
    """

    def __init__(self, total, initial=0, every=50, stream=None, unit="steps", label=None):
        self.total, self.every = total, every
        self.unit, self.label = unit, label
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start_step, self.start_time = initial, time.time()

    def rate(self, step):
        """Steps per second since the bar started."""
        elapsed = max(time.time() - self.start_time, 1e-9)
        return (step - self.start_step) / elapsed

    def update(self, step, **values):
        """Draws the bar at `step` with `values` (floats) shown as name=value."""
        if not self.tty and step % self.every and step != self.total:
            return
        rate = self.rate(step)
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        width = 24
        filled = int(width * step / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        shown = " ".join(f"{k}={v:.4g}" for k, v in values.items())
        line = (f"[{bar}] {step}/{self.total} {rate:.2f} {self.unit}/s "
                f"eta {_duration(eta)} {shown}").rstrip()
        if self.label:
            line = f"{self.label} {line}"
        if self.tty:
            self.stream.write("\r" + line + "\033[K")
            if step == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _duration(seconds):
    if seconds == float("inf"):
        return "?"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s"
