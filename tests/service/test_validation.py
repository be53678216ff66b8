"""Checks on incoming identities: email syntax and normalization, free-mail and disposable domains, bots."""

from __future__ import annotations

import pytest

from leadgate.service.validation import EmailProblem, check_email, email_traits, is_bot

BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    "curl/8.4.0",
    "python-requests/2.31.0",
    "Wget/1.21.4",
]
BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari",
]


@pytest.mark.parametrize("agent", BOTS)
def test_bot_user_agents_are_flagged(agent: str) -> None:
    assert is_bot(agent)


@pytest.mark.parametrize("agent", [*BROWSERS, None, ""])
def test_browsers_and_missing_agents_are_not(agent: str | None) -> None:
    assert not is_bot(agent)


def test_emails_are_checked_without_dns_and_normalized() -> None:
    assert check_email("Ann.Lee@Example.COM") == "Ann.Lee@example.com"
    for bad in ("not an email", "ann@", "@acme.io", "ann@@acme.io", "ann@acme"):
        with pytest.raises(EmailProblem):
            check_email(bad)


def test_free_mail_and_disposable_domains_become_traits() -> None:
    assert email_traits("GMail.com") == {"email_free": True, "email_disposable": False}
    assert email_traits("mailinator.com") == {"email_free": False, "email_disposable": True}
    assert email_traits("acme-corp.io") == {"email_free": False, "email_disposable": False}
