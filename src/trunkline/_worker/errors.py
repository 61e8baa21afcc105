"""Errors the worker raises.

    TaskException                 a task cannot be scheduled or ran wrongly (Luigi's class)
    InvalidDependencyError        requires() returned something that is not a Task
    CompleteReturnValueError      complete() returned something other than True/False
"""

from __future__ import annotations


class TaskException(Exception):
    """A task could not be scheduled, or finished without becoming complete."""


class InvalidDependencyError(Exception):
    """``requires()`` returned something other than Task objects."""


class CompleteReturnValueError(Exception):
    """``complete()`` must return exactly True or False."""
