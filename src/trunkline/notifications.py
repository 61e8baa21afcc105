"""Error e-mails (Luigi's ``luigi.notifications``).

The worker calls :func:`send_error_email` when a task fails or cannot be
scheduled; nothing is sent unless ``[email] receiver`` (or a task's
``owner_email``) names someone, and never from an interactive terminal unless
``[email] force_send`` is set. Test suites patch ``send_error_email`` here.
"""

from __future__ import annotations

import html
import logging
import smtplib
import socket
import sys
import textwrap
from collections.abc import Iterable
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

from trunkline.parameter import BoolParameter, ChoiceParameter, FloatParameter, IntParameter, Parameter
from trunkline.task import Config

logger = logging.getLogger("luigi-interface")


def _core(name: str) -> dict[str, str]:
    return {"section": "core", "name": name}


class email(Config):  # noqa: N801 - the class name is the config section name
    force_send = BoolParameter(default=False, description="Send e-mail even from a tty")
    format = ChoiceParameter(
        default="plain", choices=("plain", "html", "none"), description="Format of the e-mail body"
    )
    method = ChoiceParameter(
        default="smtp", choices=("smtp", "sendgrid", "ses", "sns"), description="How to send e-mail"
    )
    prefix = Parameter(default="", config_path=_core("email-prefix"), description="Subject prefix")
    receiver = Parameter(default="", config_path=_core("error-email"), description="Recipients")
    traceback_max_length = IntParameter(default=5000, description="Longest traceback sent")
    sender = Parameter(
        default=f"luigi-client@{socket.gethostname()}",
        config_path=_core("email-sender"),
        description="Address e-mails are sent from",
    )


class smtp(Config):  # noqa: N801 - the class name is the config section name
    host = Parameter(default="localhost", config_path=_core("smtp_host"))
    local_hostname = Parameter(default=None, config_path=_core("smtp_local_hostname"))
    no_tls = BoolParameter(default=False, config_path=_core("smtp_without_tls"))
    password = Parameter(default=None, config_path=_core("smtp_password"))
    port = IntParameter(default=0, config_path=_core("smtp_port"))
    ssl = BoolParameter(default=False, config_path=_core("smtp_ssl"))
    timeout = FloatParameter(default=10.0, config_path=_core("smtp_timeout"))
    username = Parameter(default=None, config_path=_core("smtp_login"))


def generate_email(
    sender: str, subject: str, message: str, recipients: list[str], image_png: str | None
) -> MIMEMultipart:
    root = MIMEMultipart("related")
    root.attach(MIMEText(message, email().format, "utf-8"))
    if image_png:
        with open(image_png, "rb") as image:
            root.attach(MIMEImage(image.read(), "png"))
    root["Subject"] = subject
    root["From"] = sender
    root["To"] = ",".join(recipients)
    return root


def wrap_traceback(traceback: object) -> str:
    text = str(traceback)
    if email().format == "html":
        return f"<pre>{html.escape(text)}</pre>"
    return text


def send_email_smtp(
    sender: str, subject: str, message: str, recipients: list[str], image_png: str | None
) -> None:
    config = smtp()
    connection_cls = smtplib.SMTP_SSL if config.ssl else smtplib.SMTP
    kwargs: dict[str, Any] = {"timeout": config.timeout}
    if config.local_hostname:
        kwargs["local_hostname"] = config.local_hostname
    with connection_cls(config.host, config.port, **kwargs) as connection:
        connection.ehlo_or_helo_if_needed()
        if not config.ssl and not config.no_tls and connection.has_extn("starttls"):
            connection.starttls()
        if config.username and config.password:
            connection.login(config.username, config.password)
        body = generate_email(sender, subject, message, recipients, image_png)
        connection.sendmail(sender, recipients, body.as_string())


def _email_disabled_reason() -> str | None:
    config = email()
    if config.format == "none":
        return "email format is 'none'"
    if config.force_send:
        return None
    if sys.stdout.isatty():
        return "running from a tty"
    return None


def _split_recipients(recipients: Iterable[str | None]) -> list[str]:
    cleaned: list[str] = []
    for entry in recipients:
        if entry:
            cleaned.extend(address.strip() for address in entry.split(",") if address.strip())
    return cleaned


def send_email(
    subject: str,
    message: str,
    sender: str,
    recipients: Iterable[str | None],
    image_png: str | None = None,
) -> None:
    """Send a notification, unless there is nobody to send it to or it's disabled."""
    addresses = _split_recipients(recipients)
    if not addresses:
        return
    reason = _email_disabled_reason()
    if reason:
        logger.info("Not sending email to %r because %s", addresses, reason)
        return
    method = email().method
    if method != "smtp":
        logger.error(
            "[email] method=%s is not supported by trunkline yet; use method=smtp. "
            "The e-mail '%s' was not sent.",
            method,
            subject,
        )
        return
    logger.info("Sending email to %r", addresses)
    send_email_smtp(sender, _prefix(subject), message, addresses, image_png)


def _email_recipients(additional_recipients: str | Iterable[str] | None = None) -> list[str]:
    receiver = email().receiver
    recipients = [receiver] if receiver else []
    if isinstance(additional_recipients, str):
        recipients.append(additional_recipients)
    elif additional_recipients:
        recipients.extend(additional_recipients)
    return recipients


def send_error_email(
    subject: str, message: str, additional_recipients: str | Iterable[str] | None = None
) -> None:
    """E-mail the configured error receiver (and any extra recipients)."""
    recipients = _email_recipients(additional_recipients)
    if recipients:
        send_email(subject, message, email().sender, recipients)


def _prefix(subject: str) -> str:
    prefix = email().prefix
    return f"{prefix} {subject}" if prefix else subject


def format_task_error(
    headline: str, task: Any, command: str, formatted_exception: str | None = None
) -> str:
    """The body of an error e-mail about ``task``."""
    config = email()
    if formatted_exception and len(formatted_exception) > config.traceback_max_length:
        formatted_exception = (
            formatted_exception[: config.traceback_max_length]
            + "...Traceback exceeds max length and has been truncated."
        )
    traceback_text = wrap_traceback(formatted_exception) if formatted_exception else ""
    params = task.to_str_params()
    if config.format == "html":
        rows = "\n".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in params.items()
        )
        return (
            f"<html><body><h2>{html.escape(headline)}</h2>"
            f"<table><thead><tr><th>name</th><td>{html.escape(task.task_family)}</td></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<h2>Command line</h2><pre>{html.escape(command)}</pre>"
            f"<h2>Traceback</h2>{traceback_text}</body></html>"
        )
    width = max([0, *(len(k) for k in params)])
    param_lines = "\n".join(f"  {k:{width}}: {v}" for k, v in params.items())
    return textwrap.dedent(
        """\
        {headline}

        Name: {name}

        Parameters:
        {params}

        Command line:
          {command}

        {traceback}
        """
    ).format(
        headline=headline,
        name=task.task_family,
        params=param_lines,
        command=command,
        traceback=traceback_text,
    )
