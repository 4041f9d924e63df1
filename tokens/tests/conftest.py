"""Fixtures of the token tests: those of the release tests (the standard environments, and the payments
team with its Engineer, erin)."""

from releases.tests.conftest import envs, erin, team

__all__ = ["envs", "erin", "team"]
