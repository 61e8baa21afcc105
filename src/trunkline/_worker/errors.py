"""Errors the worker raises.

    TaskException                 a task cannot be scheduled or ran wrongly (Luigi's class)
    InvalidDependencyError        requires() returned something that is not a Task
    CompleteReturnValueError      complete() returned something other than True/False
    SchedulerUnreachable          no answer from the scheduler after every retry (a marker
                                  the transport's error carries; the execution layer cannot
                                  import the transport)
"""

from __future__ import annotations


class TaskException(Exception):
    """A task could not be scheduled, or finished without becoming complete."""


class InvalidDependencyError(Exception):
    """``requires()`` returned something other than Task objects."""


class CompleteReturnValueError(Exception):
    """``complete()`` must return exactly True or False."""


class SchedulerUnreachable(Exception):
    """The scheduler gave no answer after every retry. The message names it and
    says what to do, so the worker logs it without a traceback."""
