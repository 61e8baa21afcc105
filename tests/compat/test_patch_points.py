"""Names that Luigi's tests and libraries patch in the model, data and entry modules are the names
the code really uses at call time: ``mock.patch("trunkline.<module>.<name>")`` changes behaviour."""

from __future__ import annotations

import datetime
import email.mime.multipart
from collections.abc import Iterator
from unittest import mock

import pytest

import trunkline
from trunkline import interface, lock, notifications, parameter
from trunkline.configuration import get_config


@pytest.fixture
def config_section() -> Iterator[object]:
    """Sets configuration values for one test and removes them afterwards."""
    config = get_config()
    added: list[tuple[str, str]] = []

    def put(section: str, option: str, value: str) -> None:
        if not config.has_section(section):
            config.add_section(section)
        config.set(section, option, value)
        added.append((section, option))

    yield put
    for section, option in added:
        config.remove_option(section, option)


# -- parameter ------------------------------------------------------------------------------


def test_patching_parameter_warnings_catches_the_wrong_type_warning() -> None:
    class Configured(trunkline.Config):
        value = trunkline.Parameter(default="x")

    with mock.patch("trunkline.parameter.warnings") as warnings:
        Configured(value=3)
    warnings.warn.assert_called_once_with('Parameter "value" with value "3" is not of type string.')


def test_patching_parameter_warnings_catches_optional_parameter_warnings() -> None:
    class Configured(trunkline.Config):
        count = trunkline.OptionalIntParameter()

    with mock.patch("trunkline.parameter.warnings") as warnings:
        Configured(count="many")
    warnings.warn.assert_called_once_with(
        'OptionalIntParameter "count" with value "many" is not of type "int" or None.',
        parameter.OptionalParameterTypeWarning,
    )


def test_patching_jsonschema_enabled_off_warns_and_drops_the_schema() -> None:
    with mock.patch("trunkline.parameter._JSONSCHEMA_ENABLED", False):
        with pytest.warns(UserWarning, match="'jsonschema' package is not installed"):
            p = trunkline.DictParameter(schema={"type": "object"})
    assert p.schema is None


def test_patching_parameter_exception_replaces_what_a_bad_time_delta_raises() -> None:
    class Replacement(ValueError):
        pass

    with mock.patch("trunkline.parameter.ParameterException", Replacement):
        with pytest.raises(Replacement, match="could not parse P6M"):
            trunkline.TimeDeltaParameter().parse("P6M")
    assert trunkline.TimeDeltaParameter().parse("P1D") == datetime.timedelta(days=1)


def test_parameter_types_are_subscriptable_generics() -> None:
    assert trunkline.Parameter[int].__origin__ is trunkline.Parameter  # type: ignore[attr-defined]
    mixin = parameter.OptionalParameterMixin[str]
    assert mixin.__origin__ is parameter.OptionalParameterMixin  # type: ignore[attr-defined]


# -- lock -----------------------------------------------------------------------------------


def test_patching_getpcmd_decides_who_holds_the_lock(tmp_path: object) -> None:
    pid_dir = str(tmp_path)
    with mock.patch("trunkline.lock.getpcmd", return_value="same command"):
        assert lock.acquire_for(pid_dir, num_available=1)
        # Another live process (our parent) claims the same command line: the lock is full.
        import os

        with mock.patch("os.getpid", return_value=os.getppid()):
            assert not lock.acquire_for(pid_dir, num_available=1)


def test_patching_acquire_for_is_what_build_asks() -> None:
    class Nothing(trunkline.Task):
        def complete(self) -> bool:
            return True

    with mock.patch("trunkline.lock.acquire_for", return_value=False) as acquire:
        with pytest.raises(lock.PidLockAlreadyTakenExit):
            interface.build([Nothing()], local_scheduler=True, no_lock=False)
    acquire.assert_called_once()


# -- notifications --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["smtp", "ses", "sendgrid", "sns"])
def test_send_email_dispatches_to_the_patched_sender(method: str, config_section) -> None:  # type: ignore[no-untyped-def]
    config_section("email", "method", method)
    config_section("email", "force_send", "true")
    with mock.patch(f"trunkline.notifications.send_email_{method}") as sender:
        notifications.send_email("subject", "body", "from@example.com", ("a@example.com, b@example.com",))
    sender.assert_called_once_with(
        "from@example.com", "subject", "body", ["a@example.com", "b@example.com"], None
    )


def test_send_error_email_goes_through_the_patched_send_email(config_section) -> None:  # type: ignore[no-untyped-def]
    config_section("email", "receiver", "ops@example.com")
    with mock.patch("trunkline.notifications.send_email") as send_email:
        notifications.send_error_email("failed", "traceback")
    send_email.assert_called_once()
    assert send_email.call_args.args[:2] == ("failed", "traceback")
    assert send_email.call_args.args[3] == ["ops@example.com"]


def test_patched_send_error_email_sees_a_task_failure(config_section) -> None:  # type: ignore[no-untyped-def]
    config_section("email", "receiver", "ops@example.com")

    class Broken(trunkline.Task):
        def run(self) -> None:
            raise RuntimeError("boom")

    with mock.patch("trunkline.notifications.send_error_email") as send_error_email:
        trunkline.build([Broken()], local_scheduler=True)
    send_error_email.assert_called_once()


def test_smtp_sender_uses_patched_generate_email_and_luigis_call_shape(config_section) -> None:  # type: ignore[no-untyped-def]
    config_section("smtp", "host", "mail.example.com")
    config_section("smtp", "port", "2525")
    message = email.mime.multipart.MIMEMultipart()
    with mock.patch("smtplib.SMTP") as smtp, mock.patch(
        "trunkline.notifications.generate_email", return_value=message
    ) as generate:
        notifications.send_email_smtp("from@example.com", "subject", "body", ["to@example.com"], None)
    smtp.assert_called_once_with(host="mail.example.com", port=2525, local_hostname=None, timeout=10.0)
    generate.assert_called_once_with("from@example.com", "subject", "body", ["to@example.com"], None)
    smtp.return_value.sendmail.assert_called_once_with(
        "from@example.com", ["to@example.com"], message.as_string()
    )


def test_smtp_sender_logs_an_unreachable_server_instead_of_failing(config_section) -> None:  # type: ignore[no-untyped-def]
    with mock.patch("smtplib.SMTP", side_effect=ConnectionRefusedError("refused")):
        with mock.patch.object(notifications.logger, "error") as logged:
            notifications.send_email_smtp("f@example.com", "s", "b", ["t@example.com"], None)
    assert "Not able to connect to smtp server" in logged.call_args.args[0]


def test_ses_and_sns_senders_name_the_missing_package() -> None:
    with mock.patch.dict("sys.modules", {"boto3": None}):
        with pytest.raises(ImportError, match="pip install boto3"):
            notifications.send_email_ses("f@example.com", "s", "b", ["t@example.com"], None)
