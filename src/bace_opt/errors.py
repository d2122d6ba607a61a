"""Errors the library raises on bad input; the CLI turns them into exit status 2."""

from __future__ import annotations

from collections.abc import Iterable


class InputError(Exception):
    """A file or option is invalid.

    ``problems`` holds one line per problem, each starting with the field path
    (``jobs[2].model: unknown model 'gpt5'``) so a person can find and fix it.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))

    def __reduce__(self) -> tuple[type[InputError], tuple[tuple[str, ...]]]:
        """Pickle by problems (worker processes send errors back to the parent)."""
        return (InputError, (self.problems,))
