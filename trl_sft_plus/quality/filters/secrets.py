"""Secrets in any turn: cloud keys, API tokens, private keys and passwords in URLs, with detect-secrets' rules.

The rule set is `detect-secrets`' (Yelp; the tool BigCode ran over The Stack): the regular expressions of its
format-specific plugins, compiled into one pattern so a row is scanned in one pass instead of once per plugin and
line (`scan_line` ran at about 17,000 lines/s here, a few thousand rows/s). Added by hand, because detect-secrets
1.5 has no rule for them: OpenAI's current key formats (`sk-proj-...`; its OpenAI rule only knows the legacy
`T3BlbkFJ` keys), Anthropic, Hugging Face and Google API keys, GitHub fine-grained tokens, bearer tokens, and whole
PEM private-key blocks (detect-secrets matches the header line only, which a text explaining PEM files also has).
Its entropy and keyword plugins are left out: on prose and tutorial code they flag hashes, ids and `password = "..."`
examples far more often than secrets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from ..base import FilterResult, QualityFilter, SFTRow

# detect-secrets plugins whose regexes are used, by class name; the value group is 1 where the plugin's regex
# captures the secret inside a larger match (the password of a URL), else the whole match.
DETECT_SECRETS_PLUGINS = (
    "AWSKeyDetector", "AzureStorageKeyDetector", "BasicAuthDetector", "DiscordBotTokenDetector",
    "GitHubTokenDetector", "GitLabTokenDetector", "JwtTokenDetector", "MailchimpDetector", "NpmDetector",
    "OpenAIDetector", "PypiTokenDetector", "SendGridDetector", "SlackDetector", "SquareOAuthDetector",
    "StripeDetector", "TelegramBotTokenDetector", "TwilioKeyDetector",
)  # fmt: skip
_VALUE_GROUP = {"BasicAuthDetector": 1, "NpmDetector": 1}
# (kind, regex, value group) for what detect-secrets 1.5 does not cover
EXTRA_RULES: tuple[tuple[str, str, int], ...] = (
    ("openai_key", r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}", 0),
    ("openai_key", r"\bsk-[A-Za-z0-9]{32,}\b", 0),
    ("anthropic_key", r"\bsk-ant-[a-z]+\d*-[A-Za-z0-9_-]{20,}", 0),
    ("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}\b", 0),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}", 0),
    ("github_token", r"\bgithub_pat_[A-Za-z0-9_]{22,}", 0),
    ("bearer_token", r"(?i:\bbearer\s+)([A-Za-z0-9_\-.=+/]{20,})", 1),
    ("private_key", r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----[ \t]*\r?\n"
                    r"(?:[\w-]+: [^\n]*\n)*\s*([A-Za-z0-9+/=][A-Za-z0-9+/=\r\n]{62,}[A-Za-z0-9+/=])", 1),
)  # fmt: skip
# Substrings (of the lower-cased text) without which a kind's rules cannot match: rules whose trigger is absent are
# left out of the scan, which makes the common row (no trigger at all) about one `str.lower` and a few `in` checks.
# Kinds not listed (Discord, Twilio) always run.
TRIGGERS = {
    "aws_access_key": ("a3t", "abia", "acca", "akia", "asia", "aws"),
    "azure_storage_account_access_key": ("accountkey=",),
    "basic_auth_credentials": ("://",), "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "gitlab_token": ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-", "glimt-", "glptt-",
                     "glagent-", "gloas-"),
    "json_web_token": ("eyj",), "mailchimp_access_key": ("-us",), "npm_tokens": ("_authtoken",),
    "openai_token": ("t3blbkfj",), "pypi_token": ("pypi-",), "sendgrid_api_key": ("sg.",),
    "slack_token": ("xox", "hooks.slack.com"), "square_oauth_secret": ("sq0csp-",), "stripe_access_key": ("k_live_",),
    "telegram_bot_token": (":",), "openai_key": ("sk-",), "anthropic_key": ("sk-ant-",), "huggingface_token": ("hf_",),
    "google_api_key": ("aiza",), "bearer_token": ("bearer",), "private_key": ("private key",),
}  # fmt: skip
# A value holding one of these (case-insensitive) is a placeholder, not a secret
PLACEHOLDER_MARKERS = ("example", "your", "xxxx", "placeholder", "dummy", "redacted", "changeme", "change_me", "fake",
                       "sample", "insert", "replace", "secret_key_here", "...", "***", "<", ">", "{", "}", "$", "%s",
                       "\u2026")  # fmt: skip
# Passwords in URLs that tutorials write: not secrets
PLACEHOLDER_PASSWORDS = frozenset({"password", "pass", "passwd", "pwd", "pw", "secret", "admin", "root", "postgres",
                                   "mysql", "guest", "user", "username", "mypassword", "mysecretpassword", "test",
                                   "hunter2", "token", "apikey", "api_key", "p", "x"})  # fmt: skip


# A value with 8 keyboard- or alphabet-sequential characters was typed by hand ("abcdefgh", "12345678", "qwertyui")
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "9876543210", "qwertyuiop", "asdfghjkl")
_SEQUENCE_WINDOWS = frozenset(seq[i : i + 8] for seq in _SEQUENCES for i in range(len(seq) - 7))


# Every rule needs a run of 20+ token characters (a key, a token, a base64 line), except a password in a URL: a text
# without such a run and without "://" holds no secret, and most prose is rejected by this one scan
_LONG_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=.]{20,}")


class SecretMatch(NamedTuple):
    kind: str
    start: int
    end: int


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _rules() -> list[tuple[str, re.Pattern, int]]:
    # imported here: detect-secrets takes about half a second to import, paid only when the filter is built
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes = {
        cls.__name__: (secret_type, cls) for secret_type, cls in get_mapping_from_secret_type_to_class().items()
    }
    rules = []
    for name in DETECT_SECRETS_PLUGINS:
        if name not in classes:  # a future detect-secrets without this plugin: its rule is simply absent
            continue
        secret_type, cls = classes[name]
        for pattern in cls().denylist:
            rules.append((_slug(secret_type), pattern, _VALUE_GROUP.get(name, 0)))
    rules += [(kind, re.compile(pattern), group) for kind, pattern, group in EXTRA_RULES]
    return rules


_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))


class SecretScanner:
    """The rules whose triggers occur in a text, as one alternation `(?P<r0>...)|(?P<r3>...)|...`, each with its own
    inline flags. A match names its rule; the rule's own regex then gives the value group."""

    def __init__(self) -> None:
        self.rules = _rules()
        self._triggers = [TRIGGERS.get(kind, ()) for kind, _, _ in self.rules]
        self._union = lru_cache(maxsize=256)(self._compile)

    def _compile(self, numbers: tuple[int, ...]) -> re.Pattern:
        parts = []
        for number in numbers:
            pattern = self.rules[number][1]
            flags = "".join(letter for flag, letter in _FLAG_LETTERS if pattern.flags & flag)
            body = f"(?{flags}:{pattern.pattern})" if flags else f"(?:{pattern.pattern})"
            parts.append(f"(?P<r{number}>{body})")
        return re.compile("|".join(parts))

    def find(self, text: str) -> Iterator[SecretMatch]:
        """Every secret in `text` that is not a placeholder, as (kind, start, end) of its value."""
        if "://" not in text and not _LONG_TOKEN.search(text):
            return
        lowered = text.lower()
        active = tuple(n for n, triggers in enumerate(self._triggers)
                       if not triggers or any(t in lowered for t in triggers))  # fmt: skip
        for match in self._union(active).finditer(text):
            number = int(match.lastgroup[1:])
            kind, pattern, group = self.rules[number]
            if group:
                inner = pattern.match(text, match.start(), match.end())  # the same rule at the same place
                if inner is None or inner.group(group) is None:
                    continue
                start, end = inner.span(group)
            else:
                start, end = match.span()
                while end < len(text) and (text[end].isalnum() or text[end] in "_-"):
                    end += 1  # a rule that stops inside a token (detect-secrets' JWT): take the whole token
            value = text[start:end]
            if is_placeholder(value, url_password=kind == "basic_auth_credentials"):
                continue
            if kind == "basic_auth_credentials":  # a token used as the URL's password: name the token's kind
                kind = next((inner.kind for inner in self.find(value)), kind)
            yield SecretMatch(kind, start, end)


def is_placeholder(value: str, url_password: bool = False) -> bool:
    """A value that only stands for a secret: `YOUR_API_KEY`, `<token>`, `${TOKEN}`, `sk-...`, `AKIAIOSFODNN7EXAMPLE`
    (AWS's documentation key), a run of one or two characters, a sequence (`abcdef...`, `12345...`)."""
    lowered = value.lower()
    if any(marker in lowered for marker in PLACEHOLDER_MARKERS):
        return True
    if url_password and (lowered in PLACEHOLDER_PASSWORDS or lowered.strip("0123456789") in PLACEHOLDER_PASSWORDS):
        return True
    core = re.sub(r"[^a-z0-9]", "", lowered)
    if len(set(core)) <= 2:
        return True
    from detect_secrets.filters.heuristic import is_sequential_string

    return bool(is_sequential_string(value)) or any(window in core for window in _SEQUENCE_WINDOWS)


_SCANNER: SecretScanner | None = None


def scanner() -> SecretScanner:
    global _SCANNER
    if _SCANNER is None:
        _SCANNER = SecretScanner()
    return _SCANNER


class SecretsFilter(QualityFilter):
    """Finds secrets in every turn (reason or change `secrets:<kind>`, e.g. `secrets:aws_access_key`,
    `secrets:openai_key`, `secrets:basic_auth_credentials` for a password in a URL, `secrets:private_key`).

    `action="drop"` (default) drops the row: a leaked key in training data is a leak, and the rest of the answer
    was written around it. `action="redact"` keeps the row with each secret value replaced by `placeholder`
    (`<SECRET>`), counted per kind in the report. Placeholders (`YOUR_API_KEY`, `os.environ["API_KEY"]`, `sk-...`,
    `<token>`, AWS's documentation key `AKIAIOSFODNN7EXAMPLE`, `user:password@` in a URL) are not secrets.
    """

    name = "secrets"

    def __init__(self, action: str = "drop", placeholder: str = "<SECRET>"):
        if action not in ("drop", "redact"):
            raise ValueError(f"action must be 'drop' or 'redact', got {action!r}")
        self.action, self.placeholder = action, placeholder
        scanner()  # compile the rules now (once per process), not on the first row

    def filter(self, row: SFTRow) -> FilterResult:
        texts = [m["content"] for m in row.messages] if row.messages else [row.assistant_text]
        found = [match for text in texts for match in scanner().find(text)]
        if not found:
            return True
        if self.action == "drop" or not row.editable:
            return False, found[0].kind
        row.redact(scanner().find, lambda _kind: self.placeholder, self.name)  # overlapping rules: the first one wins
        return True
