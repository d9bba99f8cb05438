"""Mails of the auth service (verification, password reset); the Mailer itself is the kit's (``kit/mail.py``)."""

from __future__ import annotations

from services.kit.mail import Mailer

__all__ = ["Mailer", "reset_mail", "verification_mail"]


def verification_mail(site: str, nickname: str, token: str) -> tuple[str, str]:
    link = f"{site}/verify-email?token={token}"
    return (
        "Verify your TeamMoa e-mail",
        f"Hello {nickname},\n\nConfirm your e-mail address to start using TeamMoa:\n\n{link}\n\n"
        "The link works once and expires in 24 hours. If you did not sign up, ignore this mail.\n",
    )


def reset_mail(site: str, nickname: str, token: str) -> tuple[str, str]:
    link = f"{site}/reset-password?token={token}"
    return (
        "Reset your TeamMoa password",
        f"Hello {nickname},\n\nChoose a new password here:\n\n{link}\n\n"
        "The link works once and expires in 1 hour. If you did not ask for it, ignore this mail.\n",
    )
