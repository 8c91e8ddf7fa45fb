"""Prints the first HTML form of a page as `<action> <urlencoded hidden fields>` (for
scripts/oidc-tests.sh, which plays a browser on oidc-provider's own login page)."""
import html.parser
import sys
import urllib.parse


class Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = []
        self.done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.done:
            return
        if tag == "form" and self.action is None:
            self.action = a.get("action") or ""
        elif tag == "input" and self.action is not None and a.get("type") == "hidden":
            self.fields.append((a.get("name", ""), a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form" and self.action is not None:
            self.done = True


parser = Form()
with open(sys.argv[1], encoding="utf-8") as f:
    parser.feed(f.read())
if not parser.action:
    sys.exit(1)
print(parser.action, urllib.parse.urlencode(parser.fields) or "x=")
