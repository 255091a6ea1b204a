"""Console progress: a redrawn bar on a terminal, a few plain lines in cron logs."""

import io

from graph.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_it_prints_a_line_per_quarter_when_not_on_a_terminal():
    out = io.StringIO()
    bar = Progress(out).bar("作答", 8)
    for _ in range(8):
        bar.advance()
    assert out.getvalue().splitlines() == [
        "作答: 2/8 (25%)",
        "作答: 4/8 (50%)",
        "作答: 6/8 (75%)",
        "作答: 8/8 (100%)",
    ]


def test_it_redraws_one_bar_on_a_terminal_and_ends_the_line():
    out = Terminal()
    bar = Progress(out).bar("作答", 3)
    for _ in range(3):
        bar.advance()
    text = out.getvalue()
    assert text.startswith("\r作答 [") and text.endswith("3/3 (100%)\n")
    assert text.count("\n") == 1


def test_quiet_progress_prints_nothing():
    out = io.StringIO()
    progress = Progress(out, quiet=True)
    progress.line("x")
    progress.bar("y", 2).advance(2)
    assert out.getvalue() == ""
