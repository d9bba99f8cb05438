"""Outgoing mail: SMTP when ``TEAMMOA_SMTP_HOST`` is set, otherwise ``.eml`` files in the outbox
(``<data dir>/mail/``) that the development outbox page lists."""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import Parser
from email.utils import formatdate, make_msgid, parsedate_to_datetime
from typing import Any

from .settings import AuthSettings

log = logging.getLogger("teammoa.mail")
LINK_RE = re.compile(r"https?://\S+")
OUTBOX_LIST_MAX = 100


class Mailer:
    def __init__(self, settings: AuthSettings) -> None:
        self.sender = settings.mail_from
        self.smtp_host = settings.smtp_host
        self.smtp_port = settings.smtp_port
        self.smtp_user = settings.smtp_user
        self.smtp_password = settings.smtp_password  # a Secret: str() only where it is sent
        self.outbox = settings.data_dir / "mail"

    def _message(self, to: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Date"], message["Message-ID"] = formatdate(usegmt=True), make_msgid("teammoa")
        message.set_content(text, cte="8bit")
        return message

    def _deliver(self, message: EmailMessage) -> None:
        if self.smtp_host:
            with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=10) as smtp:
                smtp.starttls()
                if self.smtp_user:
                    smtp.login(self.smtp_user, str(self.smtp_password))
                smtp.send_message(message)
            return
        self.outbox.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"  # sorts by time
        path = self.outbox / name
        path.write_bytes(bytes(message))
        log.info(
            "mail written to outbox",
            extra={"fields": {"to": message["To"], "subject": message["Subject"], "file": str(path)}},
        )

    async def send(self, *, to: str, subject: str, text: str) -> None:
        """Send one plain-text mail off the event loop; a delivery failure is logged, not raised."""
        try:
            await asyncio.to_thread(self._deliver, self._message(to, subject, text))
        except (OSError, smtplib.SMTPException) as exc:
            log.error("mail to %s not delivered: %r", to, exc)

    def list_outbox(self) -> list[dict[str, Any]]:
        """The newest mails in the outbox (development page)."""
        if not self.outbox.exists():
            return []
        files = sorted(self.outbox.glob("*.eml"), reverse=True)
        items = []
        for path in files[:OUTBOX_LIST_MAX]:
            message = Parser().parsestr(path.read_text(encoding="utf-8", errors="replace"))
            body = message.get_payload()
            text = body if isinstance(body, str) else ""
            items.append(
                {
                    "id": path.stem,
                    "to": message["To"],
                    "subject": message["Subject"],
                    "sent_at": parsedate_to_datetime(message["Date"]).isoformat() if message["Date"] else None,
                    "text": text,
                    "links": LINK_RE.findall(text),
                }
            )
        return items


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
