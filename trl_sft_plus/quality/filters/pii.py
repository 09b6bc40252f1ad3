"""Personal data in any turn: email addresses, phone numbers, payment card numbers, national ids, IP addresses.

Redacted to typed placeholders by default, as datatrove's `PIIFormatter` replaces emails and public IPs (it writes
made-up values; typed placeholders say what was there, so a model learns the slot, not a fake address). What stays,
because it names nobody (see docs/data_quality.md):
- emails at reserved domains (RFC 2606/6761: example.com/.net/.org and their subdomains, `.example`, `.test`,
  `.invalid`, `.localhost`), git SSH remotes (`git@github.com:org/repo`) and retina image names (`icon@2x.png`);
- phone numbers in the ranges reserved for fiction and documentation (North America's 555-0100..555-0199, the UK's
  Ofcom drama ranges 020 7946 0xxx and 07700 900xxx);
- the card networks' published test card numbers (4242 4242 4242 4242, ...); a card number must also pass the Luhn
  check and start like a real card (Visa, Mastercard, Amex, Discover, JCB, Diners);
- US social security numbers in the never-issued ranges (000, 666, 9xx) and the two famous advertising ones;
- IP addresses that are not global (private, loopback, link-local, the documentation ranges 192.0.2.0/24,
  198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32; Python's `ipaddress.is_global`, as datatrove's
  `only_remove_public_ips`) and the well-known public DNS resolvers (8.8.8.8, 1.1.1.1, ...).
In code (fenced blocks and code-only turns) only email addresses are looked for by default (`code_kinds`), as
BigCode redacted author emails in The Stack: numbers in code are constants, versions and hashes far more often than
phones, cards, ids or addresses ("7.1.4.34" in the standard library is an AIX version). Phone numbers are found and
validated by `phonenumbers` (Google's libphonenumber), the rest by regular expressions
with the checks above. Names and postal addresses are not detected: that needs an NER model (Presidio with spaCy),
which this filter does not download.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import phonenumbers

from ...code_blocks import FENCE
from ..base import FilterResult, QualityFilter, SFTRow, looks_like_code

PLACEHOLDERS = {"email": "<EMAIL>", "phone": "<PHONE>", "credit_card": "<CARD>", "national_id": "<NATIONAL_ID>",
                "ip_address": "<IP_ADDRESS>"}  # fmt: skip
KINDS = tuple(PLACEHOLDERS)

_EMAIL = re.compile(r"(?<![\w.+%-])[A-Za-z0-9][A-Za-z0-9._%+-]*@((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
                    r"[A-Za-z]{2,24})(?![\w-])(:)?")  # fmt: skip
RESERVED_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("example", "test", "invalid", "localhost")
FILE_EXTENSIONS = frozenset("png jpg jpeg gif svg webp ico bmp js mjs ts css py json html txt md".split())

_PHONE_HINT = re.compile(r"(?<![\w.])\+?\(?\d[\d ().-]{5,18}\d(?![\w])")
FICTIONAL_PHONES = (re.compile(r"555\D{0,2}01\d\d$"), re.compile(r"^(?:\+?44|0)\D*20\D*7946\D*0\d{3}$"),
                    re.compile(r"^(?:\+?44|0)\D*7700\D*900\d{3}$"))  # fmt: skip

# Amex's 4-6-5 groups, or 4-4-4-4 style groups (Visa, Mastercard, Discover, JCB; 13 to 19 digits)
_CARD = re.compile(r"(?<![\d.-])(?:\d{4}[ -]?\d{6}[ -]?\d{4,5}|(?:\d{4}[ -]?){2,3}\d{1,7})(?![\d-]|\.\d)")
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6011|65|64[4-9]|35|30[0-5]|36|38)")
TEST_CARDS = frozenset("4242424242424242 4111111111111111 4012888888881881 4000056655665556 4222222222222 "
                       "5555555555554444 5105105105105100 5200828282828210 2223003122003222 378282246310005 "
                       "371449635398431 378734493671000 6011111111111117 6011000990139424 3530111333300000 "
                       "3566002020360505 30569309025904 38520000023237 36227206271667".split())  # fmt: skip

_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")
ADVERTISED_SSNS = frozenset({"078-05-1120", "219-09-9999", "123-45-6789"})
_NINO = re.compile(r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")

_IPV4 = re.compile(r"(?<![\w.])((?:version|release|build|v)\s*)?((?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
                   r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))(?![\w]|\.\d)", re.I)  # fmt: skip
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_HEX_GROUP = re.compile(r"[0-9A-Fa-f]{1,4}")
_IPV6_HINT = re.compile(r"[0-9A-Fa-f]{1,4}::?[0-9A-Fa-f]{1,4}:")
PUBLIC_RESOLVERS = frozenset({"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112",
                              "208.67.222.222", "208.67.220.220"})  # fmt: skip


# What every detector but the email and IPv6 ones needs: seven or more characters of digits and separators (a phone,
# a card, an id, a dotted IPv4 address); prose with years and prices only is rejected by this one scan
_NUMBER_RUN = re.compile(r"\d[\d \t().+/-]{5,}\d|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")


class PIIMatch(NamedTuple):
    kind: str
    start: int
    end: int


def find_emails(text: str) -> Iterator[PIIMatch]:
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        domain = match.group(1).lower()
        if match.group(2):  # `git@github.com:org/repo.git`: an SSH remote, not a mailbox
            continue
        tld = domain.rsplit(".", 1)[-1]
        if tld in RESERVED_TLDS or tld in FILE_EXTENSIONS:
            continue
        if any(domain == d or domain.endswith("." + d) for d in RESERVED_EMAIL_DOMAINS):
            continue
        yield PIIMatch("email", match.start(), match.end(1))


def find_phones(text: str, regions: Sequence[str]) -> Iterator[PIIMatch]:
    hinted = any(sum(c.isdigit() for c in m.group(0)) >= 7 for m in _PHONE_HINT.finditer(text))
    if not hinted:
        return
    seen: set[tuple[int, int]] = set()
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            span = (match.start, match.end)
            if span in seen or any(p.search(match.raw_string) for p in FICTIONAL_PHONES):
                continue
            seen.add(span)
            yield PIIMatch("phone", match.start, match.end)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def find_cards(text: str) -> Iterator[PIIMatch]:
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and digits not in TEST_CARDS and luhn_valid(digits):
            yield PIIMatch("credit_card", match.start(), match.end())


def find_national_ids(text: str) -> Iterator[PIIMatch]:
    if "-" in text:
        for match in _SSN.finditer(text):
            if match.group(0) not in ADVERTISED_SSNS:
                yield PIIMatch("national_id", match.start(), match.end())
    for match in _NINO.finditer(text):
        yield PIIMatch("national_id", match.start(), match.end())


def find_ips(text: str) -> Iterator[PIIMatch]:
    if "." in text:
        for match in _IPV4.finditer(text):
            if match.group(1) or match.group(2) in PUBLIC_RESOLVERS:
                continue  # "version 1.2.3.4" is a version; a resolver's address names nobody
            if ipaddress.IPv4Address(match.group(2)).is_global:
                yield PIIMatch("ip_address", match.start(2), match.end(2))
    if text.count(":") >= 2 and _IPV6_HINT.search(text):
        for match in _IPV6.finditer(text):
            if len(_HEX_GROUP.findall(match.group(0))) < 3:
                continue  # `a[1::2]` is a slice
            try:
                address = ipaddress.IPv6Address(match.group(0))
            except ValueError:
                continue
            if address.is_global:
                yield PIIMatch("ip_address", match.start(), match.end())


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Where the code is: each fenced block, or the whole text when it is code only."""
    if "```" in text:
        return [match.span(2) for match in FENCE.finditer(text)]
    return [(0, len(text))] if looks_like_code(text) else []


FINDERS: dict[str, Callable[[str], Iterator[PIIMatch]]] = {
    "email": find_emails, "credit_card": find_cards, "national_id": find_national_ids, "ip_address": find_ips,
}  # fmt: skip


class PIIFilter(QualityFilter):
    """Finds personal data in every turn (kinds: `email`, `phone`, `credit_card`, `national_id`, `ip_address`).

    `action="redact"` (default) keeps the row with each finding replaced by its typed placeholder (`<EMAIL>`,
    `<PHONE>`, `<CARD>`, `<NATIONAL_ID>`, `<IP_ADDRESS>`), counted per kind in the report (`pii:email`: n).
    `action="drop"` drops the row instead (reason `pii:<kind>`). `kinds` picks the detectors; `phone_regions` are
    the regions whose national number formats count (numbers written with `+<country code>` are found for any
    region). What is kept on purpose (reserved domains, documentation IP ranges, test card numbers, fictional phone
    ranges) is listed in this module's docstring and in docs/data_quality.md.
    """

    name = "pii"

    def __init__(
        self,
        action: str = "redact",
        kinds: Sequence[str] = KINDS,
        code_kinds: Sequence[str] = ("email",),
        phone_regions: Sequence[str] = ("US", "GB"),
    ):
        if action not in ("drop", "redact"):
            raise ValueError(f"action must be 'drop' or 'redact', got {action!r}")
        unknown = [kind for kind in (*kinds, *code_kinds) if kind not in PLACEHOLDERS]
        if unknown:
            raise ValueError(f"unknown kind {unknown[0]!r}; known kinds: {', '.join(KINDS)}")
        self.action, self.kinds, self.code_kinds = action, list(kinds), list(code_kinds)
        self.phone_regions = list(phone_regions)

    def find(self, text: str) -> list[PIIMatch]:
        """Every finding in `text`, left to right, overlaps removed (the earlier, then the longer, wins)."""
        # Cheap gates first (C-speed counts): an IPv4 address needs 4 digits, the other numbers 6 or more in a run
        digits = sum(map(text.count, "0123456789"))
        if "@" not in text and text.count(":") < 2 and digits < 4:
            return []
        numbers = digits >= 6 and _NUMBER_RUN.search(text) is not None
        kinds = [kind for kind in self.kinds if kind == "email" or kind == "ip_address" or numbers]
        found = sorted((m for kind in kinds for m in self._find_kind(kind, text)), key=lambda m: (m.start, -m.end))
        code = _code_spans(text) if found and any(m.kind not in self.code_kinds for m in found) else []
        kept: list[PIIMatch] = []
        for match in found:
            if match.kind not in self.code_kinds and any(start <= match.start < end for start, end in code):
                continue
            if not kept or match.start >= kept[-1].end:
                kept.append(match)
        return kept

    def _find_kind(self, kind: str, text: str) -> Iterator[PIIMatch]:
        if kind == "phone":
            return find_phones(text, self.phone_regions)
        return FINDERS[kind](text)

    def filter(self, row: SFTRow) -> FilterResult:
        texts = [m["content"] for m in row.messages] if row.messages else [row.assistant_text]
        first = next((found[0] for found in map(self.find, texts) if found), None)
        if first is None:
            return True
        if self.action == "drop" or not row.editable:
            return False, first.kind
        row.redact(self.find, PLACEHOLDERS.__getitem__, self.name)
        return True
