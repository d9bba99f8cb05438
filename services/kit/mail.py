"""Outgoing mail of every service: SMTP when ``TEAMMOA_SMTP_HOST`` is set, otherwise ``.eml`` files in the
outbox (``<data dir>/mail/``) that the development outbox page lists.

A mail is plain text, optionally with an iCalendar part (``text/calendar; method=…``) that calendar apps
show with their own accept buttons.
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import Parser
from email.utils import formatdate, make_msgid, parsedate_to_datetime
from typing import Any

from services.kit.settings import Settings

log = logging.getLogger("teammoa.mail")
LINK_RE = re.compile(r"https?://\S+")
OUTBOX_LIST_MAX = 100


def _text_of(message: Message) -> str:
    """The plain-text body of a mail, single-part or multipart."""
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return ""


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.sender = settings.mail_from
        self.smtp_host = settings.smtp_host
        self.smtp_port = settings.smtp_port
        self.smtp_user = settings.smtp_user
        self.smtp_password = settings.smtp_password  # a Secret: str() only where it is sent
        self.outbox = settings.data_dir / "mail"

    def _message(self, to: str, subject: str, text: str, calendar: tuple[str, str] | None = None) -> EmailMessage:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Date"], message["Message-ID"] = formatdate(usegmt=True), make_msgid("teammoa")
        message.set_content(text, cte="8bit")
        if calendar is not None:
            method, ics = calendar
            message.add_alternative(ics.encode(), maintype="text", subtype="calendar", params={"method": method})
            message.add_attachment(
                ics.encode(), maintype="application", subtype="ics", filename="invite.ics", params={"method": method}
            )
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

    async def send(self, *, to: str, subject: str, text: str, calendar: tuple[str, str] | None = None) -> None:
        """Send one mail off the event loop (``calendar``: an iCalendar method and document to attach); a
        delivery failure is logged, not raised."""
        try:
            await asyncio.to_thread(self._deliver, self._message(to, subject, text, calendar))
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
            text = _text_of(message)
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
