"""Console progress for long stages: a bar on a terminal, a few plain lines elsewhere (cron, logs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Reports stage lines and a progress bar to a text stream."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False):
        self.stream = stream if stream is not None else sys.stdout
        self.quiet = quiet
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def line(self, message: str) -> None:
        if not self.quiet:
            self.stream.write(message + "\n")
            self.stream.flush()

    def bar(self, label: str, total: int) -> Bar:
        return Bar(self, label, total)


class Bar:
    WIDTH = 30

    def __init__(self, progress: Progress, label: str, total: int):
        self.progress, self.label, self.total = progress, label, max(total, 0)
        self.done = 0
        self._last_print = 0.0
        self._last_quarter = 0

    def advance(self, step: int = 1) -> None:
        self.done = min(self.total, self.done + step)
        self._draw(final=self.done >= self.total)

    def _draw(self, final: bool) -> None:
        p = self.progress
        if p.quiet or not self.total:
            return
        share = self.done / self.total
        if p._tty:
            now = time.monotonic()
            if not final and now - self._last_print < 0.1:
                return
            self._last_print = now
            filled = int(share * self.WIDTH)
            p.stream.write(
                f"\r{self.label} [{'█' * filled}{'·' * (self.WIDTH - filled)}] "
                f"{self.done}/{self.total} ({share:.0%})" + ("\n" if final else "")
            )
            p.stream.flush()
            return
        quarter = int(share * 4)  # a plain line at 25 %, 50 %, 75 % and 100 %
        if quarter != self._last_quarter and quarter > 0:
            self._last_quarter = quarter
            p.line(f"{self.label}: {self.done}/{self.total} ({share:.0%})")


class LineStream:
    """A text stream that hands each line written to it to `callback` (to collect a command's
    progress in a list, or to react to it)."""

    def __init__(self, callback):
        self.callback = callback

    def write(self, text: str) -> None:
        for line in text.splitlines():
            if line:
                self.callback(line)

    def flush(self) -> None:
        pass
