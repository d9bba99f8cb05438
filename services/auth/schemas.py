"""Request models of the auth API: every field rule of docs/spec.md "Accounts" lives here."""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, ValidationInfo, field_validator

from services.kit.validation import Schema

USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,30}$")
PASSWORD_MIN, PASSWORD_MAX = 8, 128
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def check_username(value: str) -> str:
    if not USERNAME_RE.fullmatch(value):
        raise ValueError("Use 3–30 letters, digits, '.', '_' or '-'.")
    return value


def check_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError("Enter a valid e-mail address.") from None


RESERVED_NICKNAMES = frozenset({"former member"})  # what deactivated accounts are shown as
# Letters that look like Latin ones (Cyrillic, Greek, a few symbols), after NFKC and casefold; a small
# table in the spirit of Unicode's confusables, enough for the reserved-name rule.
CONFUSABLES = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "l", "ј": "j", "ѕ": "s",
        "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "м": "m", "т": "t", "к": "k", "в": "b", "н": "h",
        "ё": "e", "ї": "l", "ɑ": "a", "ο": "o", "α": "a", "ε": "e", "ρ": "p", "ι": "l", "κ": "k", "ν": "v",
        "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "μ": "m", "ɡ": "g", "ı": "l", "ℓ": "l",
        "0": "o", "1": "l", "i": "l", "|": "l",
    }
)  # fmt: skip


def skeleton(value: str) -> str:
    """What a name looks like: NFKC, casefolded, confusables folded to Latin, 'rn' read as 'm', and
    spaces, punctuation and marks dropped — "Formеr  member" (Cyrillic е, two spaces) is "former member"."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", value).casefold()).translate(CONFUSABLES)
    text = "".join(ch for ch in text if ch.isalnum() and not unicodedata.combining(ch))
    return text.replace("rn", "m")


RESERVED_SKELETONS = frozenset(skeleton(name) for name in RESERVED_NICKNAMES)


def email_key(value: str) -> str:
    """The lookup key of an address: normalised like registration stores it, then lower-cased."""
    try:
        return check_email(value.strip()).lower()
    except ValueError:
        return value.strip().lower()


def check_nickname(value: str) -> str:
    if not 2 <= len(value) <= 20:
        raise ValueError("Use 2–20 characters.")
    if skeleton(value) in RESERVED_SKELETONS:
        raise ValueError("This nickname is reserved.")
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ValueError("Control characters are not allowed.")
    return value


def check_password(password: str, *, username: str | None = None) -> str:
    if len(password) < PASSWORD_MIN:
        raise ValueError(f"Use at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise ValueError(f"Use at most {PASSWORD_MAX} characters.")
    if password.lower() in common_passwords():
        raise ValueError("This password is too common.")
    if username and password.lower() == username.lower():
        raise ValueError("The password must differ from the username.")
    return password


class RegisterIn(Schema):
    username: str = Field(max_length=64)
    email: str = Field(max_length=254)
    nickname: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    profile: str = Field("", max_length=500)

    _username = field_validator("username")(check_username)
    _email = field_validator("email")(check_email)
    _nickname = field_validator("nickname")(check_nickname)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        return check_password(value, username=info.data.get("username"))


class AvailabilityQuery(Schema):
    model_config = Schema.model_config | {"extra": "ignore"}
    username: str | None = Field(None, max_length=254)
    email: str | None = Field(None, max_length=254)
    nickname: str | None = Field(None, max_length=254)


class TokenIn(Schema):
    token: str = Field(min_length=1, max_length=200)


class EmailIn(Schema):
    email: str = Field(min_length=1, max_length=254)


class LoginIn(Schema):
    login: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class ProfileUpdate(Schema):
    nickname: str | None = Field(None, max_length=64)
    profile: str | None = Field(None, max_length=500)

    @field_validator("nickname")
    @classmethod
    def _nickname(cls, value: str | None) -> str | None:
        return None if value is None else check_nickname(value)


class DeactivateIn(Schema):
    password: str = Field(min_length=1, max_length=1024)


class ChangePasswordIn(Schema):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ResetConfirmIn(Schema):
    token: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=1024)


class LogoutIn(Schema):
    refresh_token: str | None = Field(None, max_length=200)


class RefreshIn(Schema):
    refresh_token: str | None = Field(None, max_length=200)


UserId = Annotated[int, Field(ge=1, le=2**62)]  # bounded: SQLite refuses integers beyond 64 bits with a crash


class BatchIn(Schema):
    ids: list[UserId] = Field(max_length=1000)


class ProviderSignupIn(Schema):
    """The names a visitor chose after a first provider sign-in (and an e-mail when the provider vouches for none)."""

    username: str = Field(max_length=64)
    nickname: str = Field(max_length=64)
    email: str | None = Field(None, max_length=254)

    _username = field_validator("username")(check_username)
    _nickname = field_validator("nickname")(check_nickname)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else check_email(value.strip())


class SetPasswordIn(Schema):
    new_password: str = Field(min_length=1, max_length=1024)
