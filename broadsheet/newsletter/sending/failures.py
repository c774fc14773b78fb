"""What a failed send means: wait and retry, give up on the address, reconnect, or stop."""

import smtplib

TEMPORARY, PERMANENT, CONNECTION, FATAL = "temporary", "permanent", "connection", "fatal"


def classify(exc: Exception) -> tuple[str, str]:
    """(kind, words for staff) for a failed send.

    4xx replies are temporary and 5xx permanent (RFC 5321 §4.2.1). A refused sender or a
    failed login is the newsroom's problem, not the reader's: it stops the run instead of
    suppressing everyone. django-anymail's errors map the same way.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return (TEMPORARY if 400 <= code < 500 else PERMANENT), smtp_words(code, reply)
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError):
        if 400 <= exc.smtp_code < 500:
            return TEMPORARY, smtp_words(exc.smtp_code, exc.smtp_error)
        return FATAL, "The mail server refused our sender: " + smtp_words(
            exc.smtp_code, exc.smtp_error
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return CONNECTION, f"Connection to the mail server lost ({exc.__class__.__name__}: {exc})"
    if isinstance(exc, smtplib.SMTPResponseException):
        if exc.smtp_code == 421:  # "closing channel": the connection is going away
            return CONNECTION, smtp_words(exc.smtp_code, exc.smtp_error)
        kind = TEMPORARY if 400 <= exc.smtp_code < 500 else PERMANENT
        return kind, smtp_words(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, ValueError):  # BadHeaderError and other unusable addresses
        return PERMANENT, f"This address cannot be written in an email header ({exc})"[:300]
    anymail_kind = classify_anymail(exc)
    if anymail_kind:
        return anymail_kind
    return TEMPORARY, f"{exc.__class__.__name__}: {exc}"[:300]


def classify_anymail(exc: Exception) -> tuple[str, str] | None:
    try:
        from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
    except ImportError:  # pragma: no cover - anymail is a dependency
        return None
    if isinstance(exc, AnymailRecipientsRefused):
        return PERMANENT, f"The email service refused this address: {described(exc)}"[:300]
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None) or 0
        kind = PERMANENT if status in (400, 422) else TEMPORARY
        words = f"The email service answered {status or 'with an error'}: {described(exc)}"
        return kind, words[:300]
    return None


def described(exc: Exception) -> str:
    """str(exc), or its arguments when an error's own description fails (anymail's
    describes the HTTP response, and raises if it has none)."""
    try:
        return str(exc)
    except Exception:
        return " ".join(str(arg) for arg in exc.args) or exc.__class__.__name__


def smtp_words(code, reply) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return f"{code} {reply}".replace("\n", " ")[:300]
