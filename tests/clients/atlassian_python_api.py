"""Drives kbgate with a real published client library, atlassian-python-api (PyPI), the way
support tooling and AI assistants (mcp-atlassian) call Confluence: CQL search, page by id with
expansions, pages of a space, page by title, children, attachments (listed and downloaded),
comments, labels, ancestors, the space. Two customers of different organizations; every
response is checked for canaries of organizations the customer is not in.

Usage: python3 atlassian_python_api.py BASE_URL TOKEN_ALICE TOKEN_BOB
"""

import json
import re
import sys

from atlassian import Confluence

CANARY = re.compile(r"canary-([a-z-]+?)-[0-9a-f]{6}", re.IGNORECASE)
calls = 0


def check(who, allowed_tags, value):
    """Fails on any canary whose tag is not one of the customer's."""
    global calls
    calls += 1
    text = json.dumps(value)
    for tag in CANARY.findall(text):
        assert tag.lower() in allowed_tags, f"LEAK to {who}: canary tag {tag!r}"
    return value


def run(base, who, token, own_tags, own_marker):
    c = Confluence(url=base, token=token, cloud=False)
    # CQL search, as mcp-atlassian and support scripts do.
    found = check(who, own_tags, c.cql('space = KB AND text ~ "invoice"', limit=50))
    titles = [r["content"]["title"] for r in found["results"]]
    assert found["size"] == len(titles) and titles, found
    assert any(own_marker in t for t in titles), (who, titles)
    # Every page of the space, through the content listing and its paging.
    pages = check(who, own_tags, list(c.get_all_pages_from_space("KB", start=0, limit=10, expand="ancestors")))
    assert pages and all(p["type"] == "page" for p in pages), pages[:2]
    # Page by id with expansions, for each page the listing returned.
    for p in pages[:12]:
        page = check(who, own_tags, c.get_page_by_id(p["id"], expand="body.storage,ancestors,space,version"))
        assert page["id"] == p["id"] and page["body"]["storage"]["value"], page
    # Children, attachments (listed and downloaded both ways), comments, labels, ancestors.
    files_checked = 0
    for p in pages[:8]:
        pid = p["id"]
        kids = check(who, own_tags, list(c.get_page_child_by_type(pid, type="page")))
        assert c.get_page_child_count(pid) == len(kids), (pid, kids)
        atts = check(who, own_tags, c.get_attachments_from_content(pid, limit=50))
        assert atts["results"] and atts["size"] == len(atts["results"]), atts
        for a in atts["results"]:
            data = c.get(a["_links"]["download"], not_json_response=True)
            check(who, own_tags, data.decode("latin-1"))
            by_id = c.get(f"rest/api/content/{pid}/child/attachment/{a['id']}/download", not_json_response=True)
            assert data and by_id == data, (pid, a["title"])
            files_checked += 1
        in_memory = c.download_attachments_from_page(pid, to_memory=True)
        assert set(in_memory) == {a["title"] for a in atts["results"]}, in_memory.keys()
        labels = check(who, own_tags, c.get_page_labels(pid))
        assert labels["size"] == len(labels["results"]), labels
        comments = check(who, own_tags, c.get_page_comments(pid))
        assert all(cm["title"].startswith("Re: ") for cm in comments["results"]), comments
        check(who, own_tags, c.get_page_ancestors(pid))
    assert files_checked, "some attachments were downloaded"
    check(who, own_tags, c.get_space("KB"))
    # Page by title: a visible one is found; another organization's is "not there".
    first = pages[0]
    by_title = check(who, own_tags, c.get_page_by_title("KB", first["title"]))
    found = by_title.get("results", [by_title]) if by_title else []
    assert [p["id"] for p in found] == [first["id"]], by_title
    return len(pages)


def main():
    base, alice, bob = sys.argv[1], sys.argv[2], sys.argv[3]
    a = run(base, "alice", alice, {"acme", "acme-globex"}, "Acme")
    b = run(base, "bob", bob, {"globex", "acme-globex"}, "Globex")
    # A hidden page by title looks exactly like a missing one.
    bob_client = Confluence(url=base, token=bob, cloud=False)
    hidden = check("bob", {"globex", "acme-globex"}, bob_client.get_page_by_title("KB", "Acme invoice schedule"))
    missing = check("bob", {"globex", "acme-globex"}, bob_client.get_page_by_title("KB", "No such page at all"))
    assert hidden == missing, (hidden, missing)
    print(f"atlassian-python-api: {calls} calls checked, alice saw {a} pages, bob {b}, 0 foreign canaries")


if __name__ == "__main__":
    main()
