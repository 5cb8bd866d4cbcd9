"""The error a bad practice file raises: where in the file, and what is wrong."""

from __future__ import annotations


class PracticeError(Exception):
    """A problem with the user's input; `where` is a path such as 'appointments[3].start'."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where
        self.problem = problem
