"""Shared constants and helpers of the corpus tables (see gen.py)."""

import urllib.parse

# A search every customer may run: it lists the caller's own articles, so an answer given as
# someone else would carry that someone's canaries, which the case's oracle refuses.
SEARCH = "/wiki/rest/api/search?cql=type%3Dpage&limit=50"
# A shared article: any customer gets 200.
SHARED_ID = "100004"
SHARED = f"/wiki/rest/api/content/{SHARED_ID}"
# A globex article (hidden from alice).
GLOBEX_ID = "100006"
# An id no item has.
MISSING_ID = "999999"
# A shared page's attachment (src/sim/corpus_files.rs: `notes-<page id>.txt`).
SHARED_FILE = f"/wiki/download/attachments/{SHARED_ID}/notes-{SHARED_ID}.txt"
JSM = "/rest/servicedeskapi/knowledgebase/article?query=vpn"
V2_PAGE = f"/wiki/api/v2/pages/{SHARED_ID}"

# What every refused bearer token gets (threats.md J*: 401, a Bearer challenge, nothing upstream).
REFUSED = {
    "expect_status": [401],
    "forwarded": False,
    "expect_header_prefix": {"www-authenticate": "Bearer"},
}


def q(s):
    """A query value encoded the way form_urlencoded does (space as +)."""
    return urllib.parse.quote_plus(s, safe="*-._")


def case(row, slug, title, **fields):
    """One case as a dict; `slug` names the file."""
    c = {"row": row, "slug": slug, "title": title}
    c.update(fields)
    return c
