"""Error e-mails (Luigi's ``luigi.notifications``).

The worker calls :func:`send_error_email` when a task fails or cannot be
scheduled; nothing is sent unless ``[email] receiver`` (or a task's
``owner_email``) names someone, and never from an interactive terminal unless
``[email] force_send`` is set. Test suites patch ``send_error_email`` here.
"""

from __future__ import annotations

import html
import importlib
import logging
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
from trunkline.task import Task as Task

logger = logging.getLogger("luigi-interface")
DEFAULT_CLIENT_EMAIL = f"luigi-client@{socket.gethostname()}"


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
        default=DEFAULT_CLIENT_EMAIL,
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


class sendgrid(Config):  # noqa: N801 - the class name is the config section name
    apikey = Parameter(
        config_path={"section": "email", "name": "SENGRID_API_KEY"},
        description="API key for SendGrid login",
    )


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
    if email().format != "html":
        return text
    try:  # pygments comes with rich; colours the traceback with inline styles, as Luigi does
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonTracebackLexer
    except ImportError:
        return f"<pre>{html.escape(text)}</pre>"
    return str(highlight(text, PythonTracebackLexer(), HtmlFormatter(noclasses=True)))


def send_email_smtp(
    sender: str, subject: str, message: str, recipients: list[str], image_png: str | None
) -> None:
    # Imported at call time, as Luigi does: test suites swap sys.modules["smtplib"] for a fake.
    import smtplib

    config = smtp()
    # Keyword arguments, as Luigi passes them: code that replaces smtplib.SMTP checks them.
    kwargs: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "local_hostname": config.local_hostname,
    }
    if config.timeout:
        kwargs["timeout"] = config.timeout
    try:
        connection = smtplib.SMTP_SSL(**kwargs) if config.ssl else smtplib.SMTP(**kwargs)
        connection.ehlo_or_helo_if_needed()
        if connection.has_extn("starttls") and not config.no_tls:
            connection.starttls()
        if config.username and config.password:
            connection.login(config.username, config.password)
        body = generate_email(sender, subject, message, recipients, image_png)
        connection.sendmail(sender, recipients, body.as_string())
    except OSError as exc:  # socket.error: an unreachable server must not fail the run
        logger.error("Not able to connect to smtp server: %s", exc)


def send_email_ses(
    sender: str, subject: str, message: str, recipients: list[str], image_png: str | None
) -> None:
    """Send through AWS SES; credentials come from boto3's usual chain (files, instance profile)."""
    boto3 = _optional_import("boto3")
    body = generate_email(sender, subject, message, recipients, image_png)
    response = boto3.client("ses").send_raw_email(
        Source=sender, Destinations=recipients, RawMessage={"Data": body.as_string()}
    )
    _log_aws_response("SES", response)


def send_email_sendgrid(
    sender: str, subject: str, message: str, recipients: list[str], image_png: str | None
) -> None:
    """Send through SendGrid with the key in ``[email] SENGRID_API_KEY``."""
    library = _optional_import("sendgrid")
    client = library.SendGridAPIClient(sendgrid().apikey)
    mail = library.Mail(from_email=sender, to_emails=recipients, subject=subject)
    mail.add_content(message, "text/html" if email().format == "html" else "text/plain")
    if image_png:
        mail.add_attachment(image_png)
    client.send(mail)


def send_email_sns(
    sender: str, subject: str, message: str, topic_ARN: list[str], image_png: str | None  # noqa: N803
) -> None:
    """Publish to the AWS SNS topic whose ARN is the first recipient."""
    boto3 = _optional_import("boto3")
    topic = boto3.resource("sns").Topic(topic_ARN[0])
    if len(subject) > 100:  # SNS refuses longer subjects; keep both ends
        subject = subject[:48] + "..." + subject[-49:]
    _log_aws_response("SNS", topic.publish(Subject=subject, Message=message))


def _optional_import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"[email] method={email().method} needs the {name!r} package: pip install {name}"
        ) from exc


def _log_aws_response(service: str, response: Any) -> None:
    metadata = response["ResponseMetadata"]
    logger.debug(
        "Message sent to %s.\nMessageId: %s,\nRequestId: %s,\nHTTPSStatusCode: %s",
        service,
        response["MessageId"],
        metadata["RequestId"],
        metadata["HTTPStatusCode"],
    )


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
    """Send a notification, unless there is nobody to send it to or it's disabled.

    ``[email] method`` picks the sender (smtp, ses, sendgrid, sns). The senders are looked up
    in this module at call time, so patching ``notifications.send_email_smtp`` takes effect.
    """
    subject = _prefix(subject)
    addresses = _split_recipients(recipients)
    if not addresses:
        return
    reason = _email_disabled_reason()
    if reason:
        logger.info("Not sending email to %r because %s", addresses, reason)
        return
    senders = {
        "smtp": send_email_smtp,
        "ses": send_email_ses,
        "sendgrid": send_email_sendgrid,
        "sns": send_email_sns,
    }
    logger.info("Sending email to %r", addresses)
    senders[email().method](sender, subject, message, addresses, image_png)


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
