"""Checks on incoming identities: email syntax (email-validator, no DNS), disposable and free-mail
domains (exposed as traits fit rules can use), and bot user agents (their events are kept but not scored)."""

from __future__ import annotations

import re
from functools import lru_cache

from disposable_email_domains import blocklist
from email_validator import EmailNotValidError, validate_email

#: Consumer mailbox providers: an address there says nothing about the company.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com", "outlook.com",
    "hotmail.com", "hotmail.co.uk", "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com",
    "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "mail.ru", "yandex.ru",
    "yandex.com", "qq.com", "163.com", "126.com", "zoho.com", "fastmail.com", "tutanota.com", "hey.com",
    "orange.fr", "free.fr", "laposte.net", "libero.it", "t-online.de", "rediffmail.com", "naver.com",
})  # fmt: skip
BOT_AGENT = re.compile(  # "bot" but not the Cubot phones' "CUBOT"
    r"(?<!cu)bot|crawl|spider|slurp|headless|phantomjs|puppeteer|playwright|selenium|python-requests|curl/|wget/"
    r"|httpclient|facebookexternalhit|preview",
    re.IGNORECASE,
)


class EmailProblem(ValueError):
    pass


@lru_cache(maxsize=65536)
def check_email(address: str) -> str:
    """The normalized address, or EmailProblem saying why it is not one."""
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise EmailProblem(str(exc)) from None


@lru_cache(maxsize=4096)
def email_traits(domain: str) -> dict[str, bool]:
    d = domain.lower()
    return {"email_free": d in FREE_MAIL, "email_disposable": d in blocklist}


@lru_cache(maxsize=4096)
def is_bot(user_agent: str | None) -> bool:
    return bool(user_agent) and BOT_AGENT.search(user_agent or "") is not None
