"""Batched failure e-mails from the scheduler (Luigi's ``luigi.batch_notifier``).

With ``[scheduler] batch_emails = true`` the scheduler does not mail each
failure as it happens. It tells a :class:`BatchNotifier` about failures,
disables and scheduling failures; every ``[batch_email] email_interval``
minutes the notifier sends each owner one e-mail that counts them per task
group (how tasks are grouped is ``batch_mode``) and shows the last error
messages of each group. ``time``, ``email`` and ``send_email`` are looked up in
this module at call time (tests patch them).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import trunkline as luigi  # noqa: F401 - Luigi's module exposes the package as `luigi`
from trunkline.notifications import email, send_email
from trunkline.parameter import BoolParameter, ChoiceParameter, IntParameter
from trunkline.task import Config


class batch_email(Config):  # noqa: N801 - the class name is the config section name
    email_interval = IntParameter(
        default=60,
        config_path={"section": "batch-notifier", "name": "email-interval-minutes"},
        description="Minutes between two batched e-mails",
    )
    batch_mode = ChoiceParameter(
        default="unbatched_params",
        choices=("family", "all", "unbatched_params"),
        description="How failures are grouped: by family, by family and non-batched parameters, or by task",
    )
    error_lines = IntParameter(default=20, description="Lines shown of each error message (0: all)")
    error_messages = IntParameter(default=1, description="Error messages shown per group")
    group_by_error_messages = BoolParameter(default=True, description="Put groups with the same error together")


class ExplQueue(collections.OrderedDict):  # type: ignore[type-arg]
    """The last ``num_items`` distinct error messages, oldest first."""

    def __init__(self, num_items: int) -> None:
        self.num_items = num_items
        super().__init__()

    def enqueue(self, item: Any) -> None:
        # A repeated message moves to the end rather than appearing twice.
        self.pop(item, None)
        self[item] = datetime.now()
        while len(self) > self.num_items:
            self.popitem(last=False)


def _fail_queue(num_messages: int) -> Callable[[], collections.defaultdict[str, ExplQueue]]:
    return lambda: collections.defaultdict(lambda: ExplQueue(num_messages))


def _plural_format(template: str, number: int, plural: str = "s") -> str:
    if number == 0:
        return ""
    return template.format(number, "" if number == 1 else plural)


def _counts_text(failures: int, disables: int, scheduling: int) -> str:
    parts = (
        _plural_format("{} failure{}", failures),
        _plural_format("{} disable{}", disables),
        _plural_format("{} scheduling failure{}", scheduling),
    )
    return ", ".join(part for part in parts if part)


# One line of an e-mail: (group name, failures, disables, scheduling failures).
_Row = tuple[str, int, int, int]


class BatchNotifier:
    def __init__(self, **kwargs: Any) -> None:
        self._config = batch_email(**kwargs)
        counter: Callable[[], collections.defaultdict[str, collections.Counter[str]]] = lambda: collections.defaultdict(
            collections.Counter
        )
        self._fail_counts = counter()
        self._disabled_counts = counter()
        self._scheduling_fail_counts = counter()
        self._fail_expls: collections.defaultdict[str, collections.defaultdict[str, ExplQueue]] = collections.defaultdict(
            _fail_queue(self._config.error_messages)
        )
        self._update_next_send()
        settings = email()
        self._email_format = settings.format
        self._default_owner = {r for r in (settings.receiver or "").split(",") if r}

    def _update_next_send(self) -> None:
        self._next_send = time.time() + 60 * self._config.email_interval

    def _key(self, task_name: str, family: str, unbatched_args: dict[str, Any]) -> str:
        mode = self._config.batch_mode
        if mode == "all":
            return task_name
        if mode == "family":
            return family
        if mode == "unbatched_params":
            shown = ", ".join(f"{k}={v}" for k, v in unbatched_args.items())
            return f"{family}({shown})"
        raise ValueError(f"Unknown batch mode for batch notifier: {mode}")

    def _owners(self, owners: Iterable[str] | None) -> set[str]:
        return self._default_owner | set(owners or ())

    # -- what the scheduler reports ----------------------------------------------------
    def add_failure(self, task_name: str, family: str, unbatched_args: dict[str, Any], expl: Any, owners: Any) -> None:
        key = self._key(task_name, family, unbatched_args)
        for owner in self._owners(owners):
            self._fail_counts[owner][key] += 1
            self._fail_expls[owner][key].enqueue(expl)

    def add_disable(self, task_name: str, family: str, unbatched_args: dict[str, Any], owners: Any) -> None:
        key = self._key(task_name, family, unbatched_args)
        for owner in self._owners(owners):
            self._disabled_counts[owner][key] += 1
            self._fail_counts[owner].setdefault(key, 0)

    def add_scheduling_fail(
        self, task_name: str, family: str, unbatched_args: dict[str, Any], expl: Any, owners: Any
    ) -> None:
        key = self._key(task_name, family, unbatched_args)
        for owner in self._owners(owners):
            self._scheduling_fail_counts[owner][key] += 1
            self._fail_expls[owner][key].enqueue(expl)
            self._fail_counts[owner].setdefault(key, 0)

    # -- the e-mail text ---------------------------------------------------------------
    def _format_expl(self, expl: str) -> str:
        lines = expl.rstrip().split("\n")[-self._config.error_lines :]
        if self._email_format == "html":
            return "<pre>{}</pre>".format("\n".join(lines))
        return "\n" + "\n".join("      " + line for line in lines)

    def _expl_body(self, expls: Iterable[str]) -> str:
        parts = [self._format_expl(expl) for expl in expls]
        if parts and self._email_format != "html":
            parts.append("")
        return "\n".join(parts)

    @staticmethod
    def _rows_key(rows: tuple[_Row, ...]) -> tuple[int, int, str]:
        # Most failures first, then most disables, then by name.
        failures = sum(row[1] + row[3] for row in rows)
        disables = sum(row[2] for row in rows)
        return -failures, -disables, min(rows)[0]

    def _format_tasks(self, rows: tuple[_Row, ...]) -> str:
        lines = [f"{row[0]} ({_counts_text(row[1], row[2], row[3])})" for row in sorted(rows, key=lambda r: self._rows_key((r,)))]
        if self._email_format == "html":
            return "<li>" + "\n<br>".join(lines)
        return "- " + "\n  ".join(lines)

    def _groups(self, bodies: dict[_Row, str]) -> list[tuple[tuple[_Row, ...], str]]:
        if not self._config.group_by_error_messages:
            return [((row,), body) for row, body in bodies.items()]
        by_body: dict[str, list[_Row]] = {}
        for row, body in bodies.items():
            by_body.setdefault(body, []).append(row)
        return [(tuple(rows), body) for body, rows in by_body.items()]

    def _email_body(
        self,
        fail_counts: collections.Counter[str],
        disable_counts: collections.Counter[str],
        scheduling_counts: collections.Counter[str],
        fail_expls: dict[str, ExplQueue],
    ) -> str:
        bodies = {
            (name, failures, disable_counts[name], scheduling_counts[name]): self._expl_body(fail_expls[name])
            for name, failures in fail_counts.items()
        }
        lines: list[str] = []
        for rows, body in sorted(self._groups(bodies), key=lambda group: self._rows_key(group[0])):
            lines.append(self._format_tasks(rows))
            lines.append(body)
        text = "\n".join(line for line in lines if line).rstrip()
        return f"<ul>\n{text}\n</ul>" if self._email_format == "html" else text

    def _send_email(
        self,
        fail_counts: collections.Counter[str],
        disable_counts: collections.Counter[str],
        scheduling_counts: collections.Counter[str],
        fail_expls: dict[str, ExplQueue],
        owner: str,
    ) -> None:
        summary = _counts_text(sum(fail_counts.values()), sum(disable_counts.values()), sum(scheduling_counts.values()))
        if not summary:
            return
        prefix = "" if owner in self._default_owner else "Your tasks have "
        subject = f"Luigi: {prefix}{summary} in the last {self._config.email_interval} minutes"
        body = self._email_body(fail_counts, disable_counts, scheduling_counts, fail_expls)
        send_email(subject, body, email().sender, (owner,))

    def send_email(self) -> None:
        """Send each owner what was collected, then start collecting afresh (even if sending failed)."""
        try:
            for owner, failures in self._fail_counts.items():
                self._send_email(
                    failures,
                    self._disabled_counts[owner],
                    self._scheduling_fail_counts[owner],
                    self._fail_expls[owner],
                    owner,
                )
        finally:
            self._update_next_send()
            self._fail_counts.clear()
            self._disabled_counts.clear()
            self._scheduling_fail_counts.clear()
            self._fail_expls.clear()

    def update(self) -> None:
        """Send if the interval has passed (the scheduler calls this when it prunes)."""
        if time.time() >= self._next_send:
            self.send_email()

