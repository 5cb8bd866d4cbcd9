"""Small helpers shared by the optimize and simulate commands: error reporting and option parsing."""

from __future__ import annotations

import sys

EXIT_USAGE = 2


class OptionError(ValueError):
    """A command-line option has a bad value; ``option`` is its flag, e.g. ``--weights``."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


def report_error(option: str, message: str) -> int:
    """Print the error the way argparse does and return the usage exit status."""
    print(f"slotoptim: error: {option}: {message}", file=sys.stderr)
    return EXIT_USAGE


def parse_floats(option: str, text: str, *, count: int | None = None) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise OptionError(option, f"expected comma-separated numbers, got {text!r}") from None
    if count is not None and len(values) != count:
        raise OptionError(option, f"expected {count} comma-separated numbers, got {len(values)}")
    return values
