"""Waiting between polling rounds (`poll_batches --loop`, `upload_novel --wait`): at least 1 s
between rounds, in short steps so SIGTERM or Ctrl-C ends the wait within a second."""

from __future__ import annotations

import signal
import time

MIN_INTERVAL = 1  # seconds between rounds, whatever --interval says
STEP = 0.25  # seconds slept at a time while checking for a stop


class Rounds:
    """Run rounds until stopped: `while rounds.wait(): ...` after the first round."""

    clock = staticmethod(time.monotonic)  # tests replace both with a fake clock
    sleep = staticmethod(time.sleep)

    def __init__(self, interval: int):
        self.interval = max(MIN_INTERVAL, interval)
        self.stopped = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)

    def _stop(self, *_) -> None:
        self.stopped = True

    def wait(self) -> bool:
        """Sleep until the next round is due; False once a stop was asked for."""
        deadline = self.clock() + self.interval
        while not self.stopped and (left := deadline - self.clock()) > 0:
            self.sleep(min(STEP, left))
        return not self.stopped
