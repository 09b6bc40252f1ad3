"""Web page residue in prose answers: HTML markup and scripts, cookie banners, navigation and share lines, copyright
footers. What scraped chat logs and page-to-answer sets carry; the ShareGPT/Vicuna cleanups stripped HTML first.

Only the prose is read (`SFTRow.prose`: fenced code removed, code-only answers empty), and HTML is not residue
when the user asked for markup (HTML, a web page, CSS, JSX, an email template, ...).
"""

from __future__ import annotations

import re

from ..base import FilterResult, QualityFilter, SFTRow

# Tags that never belong in a chat answer's prose: a page's skeleton and its active parts
PAGE_TAGS = re.compile(r"<(?:script|style|iframe|noscript|html|head|body|nav|footer|header|meta|link|form|!doctype)\b",
                       re.I)  # fmt: skip
# Any other HTML element, opening or closing
ANY_TAG = re.compile(
    r"</?(?:div|span|p|a|br|img|ul|ol|li|table|tr|td|th|h[1-6]|strong|em|b|i|section|article|aside|button|input|label|"
    r"svg|path|figure|figcaption|small|sup|sub|hr)\b[^<>]{0,300}>",
    re.I,
)
ENTITY = re.compile(r"&(?:nbsp|amp|lt|gt|quot|#\d{2,5}|#x[0-9a-f]{2,4}|rsquo|lsquo|ldquo|rdquo|mdash|ndash|copy);",
                    re.I)  # fmt: skip
# Line-level residue: the line is short and is nothing but the banner, the menu or the footer
LINE_RULES: tuple[tuple[str, re.Pattern], ...] = (
    ("cookie_banner", re.compile(r"\b(?:we use cookies|this (?:web)?site uses cookies|accept (?:all )?cookies|"
                                 r"cookie (?:policy|settings|preferences|consent)|by continuing to (?:browse|use))\b",
                                 re.I)),
    ("copyright_footer", re.compile(r"^(?:\u00a9|\(c\)\s*\d{4}|copyright\s*(?:\u00a9\s*)?\d{4})|"
                                    r"\ball rights reserved\.?\s*$", re.I)),
    ("share_buttons", re.compile(r"\b(?:share (?:this|on|via)|tweet this|pin it|follow us on|like us on|"
                                 r"share\s*[:|]\s*(?:facebook|twitter|linkedin|email))\b|"
                                 r"^(?:facebook|twitter|x|linkedin|pinterest|reddit|whatsapp|email)"
                                 r"(?:\s*[|\u2022\u00b7/,]\s*(?:facebook|twitter|x|linkedin|pinterest|reddit|whatsapp|"
                                 r"email|print)){2,}\s*$", re.I)),
    ("share_buttons", re.compile(r"^(?:print|email|e-mail|share|tweet|pin|save|like|facebook|twitter|linkedin)"
                                 r"(?:\s*[|\u2022\u00b7/,]\s*(?:print|email|e-mail|share|tweet|pin|save|like|facebook|"
                                 r"twitter|linkedin|whatsapp|reddit)){2,}\s*$", re.I)),
    ("navigation", re.compile(r"^(?:tags|filed under|categories|posted in)\s*:\s*\w[\w -]*(?:,\s*\w[\w -]*){2,}$",
                              re.I)),
    ("navigation", re.compile(r"\b(?:skip to (?:main )?content|back to top|toggle navigation|main menu|"
                              r"subscribe to our newsletter|sign up for our newsletter|leave a (?:comment|reply)|"
                              r"related posts|read more\s*[\u00bb>\u2192]|previous post|next post)\b", re.I)),
)  # fmt: skip
# Words one of the line rules or a menu needs (checked as substrings of the lower-cased prose, at C speed): prose
# without any of them skips the line loop
LINE_HINTS = (
    "cookie", "copyright", "\u00a9", "(c)", "rights reserved", "share", "tweet", "pin it", "follow us", "like us",
    "skip to", "back to top", "toggle", "menu", "newsletter", "leave a", "related posts", "read more", "previous post",
    "next post", "facebook", "twitter", "linkedin", "home", "print", "tags", "filed under", "categories", "posted in",
    "email", " | ", "\u2022", "\u203a", "\u00bb",
)  # fmt: skip
NAV_WORDS = frozenset("home about about-us contact blog login log-in sign-in sign-up register shop cart faq careers "
                      "search menu privacy terms sitemap news products services support".split())  # fmt: skip
_NAV_SPLIT = re.compile(r"\s*[|\u2022\u00b7\u203a\u00bb/]\s*")
# The user asked for markup (or about it): tags in the answer are the answer
MARKUP_REQUEST = re.compile(r"\b(?:html|css|web ?page|website|landing page|jsx|tsx|react|vue|svelte|angular|"
                            r"markup|svg|xml|dom|tags?|email template|bootstrap|tailwind|scrap\w*|beautifulsoup|"
                            r"javascript|js)\b", re.I)  # fmt: skip


class WebResidueFilter(QualityFilter):
    """Drops rows whose answer prose carries web page residue (reason `web_residue:<kind>`):

    - `html`: a page tag (`<script>`, `<style>`, `<iframe>`, `<html>`, `<nav>`, `<footer>`, ...), at least
      `min_tags` other HTML tags, or at least `min_entities` HTML entities (`&nbsp;`, `&#39;`) in the prose, unless
      the user asked for markup (HTML, a web page, CSS, JSX, SVG, scraping, ...);
    - `cookie_banner`, `copyright_footer`, `share_buttons`, `navigation`: a line of at most `max_line_words` words
      that is a cookie notice, a copyright footer ("\u00a9 2024 Acme Inc. All rights reserved."), share or follow
      buttons, or a menu (three or more items like "Home | About | Contact", or "Skip to content", "Back to top").

    Prose that talks about these things in sentences (what cookies are, what copyright protects) is longer than a
    banner line, and code (fenced or code-only answers) is never read.
    """

    name = "web_residue"

    def __init__(self, min_tags: int = 3, min_entities: int = 2, max_line_words: int = 14):
        self.min_tags, self.min_entities, self.max_line_words = min_tags, min_entities, max_line_words

    def filter(self, row: SFTRow) -> FilterResult:
        prose = row.prose
        if not prose:
            return True
        if ("<" in prose or "&" in prose) and not MARKUP_REQUEST.search(row.prompt_text):
            if PAGE_TAGS.search(prose) or len(ANY_TAG.findall(prose)) >= self.min_tags:
                return False, "html"
            if len(ENTITY.findall(prose)) >= self.min_entities:
                return False, "html"
        lowered = prose.lower()
        if not any(hint in lowered for hint in LINE_HINTS):
            return True
        for line in prose.splitlines():
            line = line.strip().strip("*_#>- ")
            if not line or len(line.split()) > self.max_line_words:
                continue
            for kind, pattern in LINE_RULES:
                if pattern.search(line):
                    return False, kind
            if self._is_menu(line):
                return False, "navigation"
        return True

    @staticmethod
    def _is_menu(line: str) -> bool:
        items = [item.lower().replace(" ", "-") for item in _NAV_SPLIT.split(line) if item]
        return len(items) >= 3 and sum(item in NAV_WORDS for item in items) >= 3
