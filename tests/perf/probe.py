#!/usr/bin/env python3
"""Correctness probe of tests/perf/compare.sh: one request per kbgate configuration.

Usage: probe.py KBGATE_URL UPSTREAM_URL FIXTURES OUT_JSON

Checks, each of which fails the run (exit 1) with a message on stderr:
  - the detector itself: upstream's own 25-result answer DOES contain the foreign canaries
    (so a probe that finds none below is not blind);
  - the filtered searches (25 results, and the 200-result answer behind limit=100): 200, JSON,
    `size == len(results)`, exactly the expected number of kept results, only acme's pages,
    and no foreign canary in the raw bytes nor in the JSON-decoded, HTML-unescaped text;
  - the auth-only path: acme's attachment comes back byte for byte; globex's is a 404;
  - acme's page answer: 200 without canaries; globex's page: 404;
  - no token: 401.
Writes what it saw to OUT_JSON. Stdlib only.
"""

import html
import json
import os
import sys
import urllib.error
import urllib.request

SEARCH = "/wiki/rest/api/search?cql=text~widget&limit={limit}&expand=content.version"


def get(url, token=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def strings(value, out):
    """Every string (keys too) of a decoded JSON value."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for v in value:
            strings(v, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            out.append(k)
            strings(v, out)
    return out


def leaked(body, canaries):
    """Canaries found in the raw bytes or in the decoded text of `body`."""
    texts = [body.decode("utf-8", errors="replace")]
    try:
        texts.append("\n".join(strings(json.loads(body), [])))
    except ValueError:
        pass
    texts += [html.unescape(t) for t in texts]
    return sorted({c for c in canaries for t in texts if c in t})


class Probe:
    def __init__(self):
        self.failures = []
        self.seen = {}

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok


def probe_search(p, kb, token, canaries, limit, expect):
    status, body = get(kb + SEARCH.format(limit=limit), token)
    name = f"search limit={limit}"
    p.seen[name] = {"status": status, "bytes": len(body)}
    if not p.check(status == 200, f"{name}: status {status}, expected 200"):
        return
    hits = leaked(body, canaries)
    p.check(not hits, f"{name}: LEAK of {len(hits)} foreign canaries, e.g. {hits[:3]}")
    try:
        doc = json.loads(body)
    except ValueError:
        p.check(False, f"{name}: answer is not JSON")
        return
    results = doc.get("results", [])
    ids = [r.get("content", {}).get("id") for r in results]
    p.seen[name].update(size=doc.get("size"), results=len(results))
    p.check(doc.get("size") == len(results), f"{name}: size {doc.get('size')} != {len(results)}")
    p.check(len(results) == expect["kept"], f"{name}: {len(results)} kept, expected {expect['kept']}")
    foreign = [i for i in ids if not (isinstance(i, str) and i.isdigit() and int(i) % 2 == 0)]
    p.check(not foreign, f"{name}: results that are not acme's: {foreign[:5]}")


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: probe.py KBGATE_URL UPSTREAM_URL FIXTURES OUT_JSON")
    kb, upstream, fixtures, out = sys.argv[1:]
    with open(os.path.join(fixtures, "token"), encoding="ascii") as f:
        token = f.read().strip()
    with open(os.path.join(fixtures, "canaries.txt"), encoding="ascii") as f:
        canaries = [line.strip() for line in f if line.strip()]
    with open(os.path.join(fixtures, "expect.json"), encoding="utf-8") as f:
        expect = json.load(f)
    p = Probe()

    # The detector must see what it is looking for in the unfiltered answer.
    status, raw = get(upstream + SEARCH.format(limit=25))
    seen = leaked(raw, canaries)
    p.seen["upstream search (detector check)"] = {"status": status, "canaries_found": len(seen)}
    p.check(status == 200 and len(seen) >= 24, f"detector check: {len(seen)} canaries in upstream's answer, expected >= 24")

    probe_search(p, kb, token, canaries, 25, expect["search"]["25"])
    probe_search(p, kb, token, canaries, 100, expect["search"]["200"])

    own, foreign, name = expect["own_page"], expect["foreign_page"], expect["attachment"]
    with open(os.path.join(fixtures, "wiki", "download", "attachments", str(own), name), "rb") as f:
        blob = f.read()
    status, body = get(f"{kb}/wiki/download/attachments/{own}/{name}", token)
    p.seen["attachment (acme)"] = {"status": status, "bytes": len(body)}
    p.check(status == 200 and body == blob, f"attachment of acme's page: status {status}, {len(body)} bytes, expected 200 and the file's {len(blob)} bytes")
    status, body = get(f"{kb}/wiki/download/attachments/{foreign}/{name}", token)
    p.seen["attachment (globex)"] = {"status": status}
    p.check(status == 404, f"attachment of globex's page: status {status}, expected 404")

    status, body = get(f"{kb}/wiki/rest/api/content/{own}?expand=body.storage", token)
    p.seen["page (acme)"] = {"status": status, "bytes": len(body)}
    p.check(status == 200, f"acme's page: status {status}, expected 200")
    hits = leaked(body, canaries)
    p.check(not hits, f"acme's page: LEAK of {hits[:3]}")
    status, body = get(f"{kb}/wiki/rest/api/content/{foreign}?expand=body.storage", token)
    p.seen["page (globex)"] = {"status": status}
    p.check(status == 404 and not leaked(body, canaries), f"globex's page: status {status}, expected 404")

    status, _ = get(kb + SEARCH.format(limit=25))
    p.seen["search without a token"] = {"status": status}
    p.check(status == 401, f"search without a token: status {status}, expected 401")

    with open(out, "w", encoding="utf-8") as f:
        json.dump({"ok": not p.failures, "failures": p.failures, "seen": p.seen}, f, indent=1)
    for name, what in p.seen.items():
        print(f"  probe: {name}: {json.dumps(what)}")
    if p.failures:
        for failure in p.failures:
            print(f"PROBE FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
    print(f"  probe: ok ({len(canaries)} canaries, none leaked)")


if __name__ == "__main__":
    main()
