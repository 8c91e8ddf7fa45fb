#!/usr/bin/env python3
"""Writes the hand-made seed files of kbgate's fuzz corpora (fuzz/corpus/<target>/seed-*).

Sources: the route table's hostile paths (src/route/tests.rs) and threats.md H3 payloads;
broken tokens signed with the repository's test keys (testdata/keys, needs the `cryptography`
package); hostile JSON shapes; the renderer's XSS corpus (src/portal/render_tests_hostile.rs)
and storage rewriter fixtures (src/filter/storage/tests.rs). The `sim-*` and `sample-*` files
were taken once from `kbgate sim` (curl with the service account) and
/work/shared/confluence-samples/ and are not rewritten here.

Deterministic: rerunning rewrites the same files (token times are fixed, not `now`).
Usage: python3 fuzz/make_seeds.py   (from the repository root)
"""

import base64
import hashlib
import hmac
import json
import os
import re

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, name, data):
    path = os.path.join(CORPUS, target, "seed-" + name)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key(name):
    with open(os.path.join(ROOT, "testdata", "keys", name), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def sign(header, claims, alg="RS256", keyfile="demo-rsa.pem", secret=None):
    h = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    c = claims if isinstance(claims, str) else json.dumps(claims, separators=(",", ":"))
    msg = (b64(h) + "." + b64(c)).encode()
    if alg == "RS256":
        sig = key(keyfile).sign(msg, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        sig = key(keyfile).sign(
            msg, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()
        )
    elif alg == "ES256":
        der = key(keyfile).sign(msg, ec.ECDSA(hashes.SHA256()))
        r, s = utils.decode_dss_signature(der)
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "HS256":
        sig = hmac.new(secret, msg, hashlib.sha256).digest()
    else:
        sig = b""
    return msg.decode() + "." + b64(sig)


ISS = "https://idp.test/realms/kb"
EC_ISS = "https://ec-idp.test"
PAST = 1_000_000_000  # 2001
FUTURE = 4_102_444_800  # 2100


def claims(**edits):
    c = {"iss": ISS, "aud": "kbgate", "sub": "alice", "exp": PAST, "iat": PAST - 60,
         "email": "alice@acme.test", "kb_orgs": ["acme"], "groups": ["kb-acme"]}
    for k, v in edits.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def token_seeds():
    rs = {"alg": "RS256", "typ": "JWT"}
    with open(os.path.join(ROOT, "testdata", "keys", "demo-rsa.pub.pem"), "rb") as f:
        public_pem = f.read()
    seeds = {
        "expired": sign(rs, claims()),
        "expired-with-kid": sign({"alg": "RS256", "kid": "demo-rsa-1"}, claims()),
        "wrong-audience": sign(rs, claims(aud="someone-else", exp=FUTURE)),
        "audience-array-wrong": sign(rs, claims(aud=["a", "b"], exp=FUTURE)),
        "unknown-issuer": sign(rs, claims(iss="https://evil.example", exp=FUTURE)),
        "not-yet-valid": sign(rs, claims(nbf=FUTURE - 10, exp=FUTURE)),
        "issued-in-future": sign(rs, claims(iat=FUTURE - 10, exp=FUTURE)),
        "missing-sub": sign(rs, claims(sub=None, exp=FUTURE, aud="nobody")),
        "empty-sub-expired": sign(rs, claims(sub="")),
        "missing-exp-wrong-aud": sign(rs, claims(exp=None, aud="x")),
        "string-exp": sign(rs, claims(exp=str(FUTURE), aud="x")),
        "float-exp-expired": sign(rs, claims(exp=PAST + 0.5)),
        "typ-jwe": sign({"alg": "RS256", "typ": "JWE"}, claims(exp=FUTURE, aud="x")),
        "crit-header": sign({"alg": "RS256", "crit": ["exp"]}, claims()),
        "jku-header": sign({"alg": "RS256", "jku": "https://evil.example/jwks"}, claims()),
        "jwk-header": sign({"alg": "RS256", "jwk": {"kty": "oct", "k": "AAAA"}}, claims()),
        "duplicate-claim": sign(rs, '{"iss":"%s","aud":"kbgate","sub":"a","sub":"b","exp":%d}' % (ISS, PAST)),
        "duplicate-header-alg": sign('{"alg":"RS256","alg":"none"}', claims()),
        "huge-kid": sign({"alg": "RS256", "kid": "k" * 400}, claims()),
        "other-rsa-key": sign(rs, claims(exp=FUTURE), keyfile="other-rsa.pem"),
        "ps256-for-rs256-issuer": sign({"alg": "PS256"}, claims()),
        "es256-for-rsa-issuer": sign({"alg": "ES256"}, claims(), "ES256", "demo-ec.pem"),
        "es256-expired": sign({"alg": "ES256"}, claims(iss=EC_ISS), "ES256", "demo-ec.pem"),
        "hs256-with-public-key": sign({"alg": "HS256"}, claims(exp=FUTURE, aud="x"), "HS256", secret=public_pem),
        "alg-none": b64('{"alg":"none"}') + "." + b64(json.dumps(claims())) + ".",
        "alg-None-sig": b64('{"alg":"None"}') + "." + b64(json.dumps(claims())) + ".AAAA",
        "groups-overage": sign(rs, claims(_claim_names={"groups": "src1"}, hasgroups=True)),
        "orgs-not-strings": sign(rs, claims(kb_orgs=[1, {"a": 2}])),
        "email-unverified": sign(rs, claims(email_verified=False)),
    }
    valid_shape = seeds["expired"]
    h, p, s = valid_shape.split(".")
    seeds.update({
        "five-segments-jwe": ".".join([h, p, s, s, s]),
        "two-segments": h + "." + p,
        "empty-parts": "..",
        "padding": h + "==." + p + "." + s,
        "std-alphabet": valid_shape.replace("-", "+").replace("_", "/"),
        "trailing-dot": valid_shape + ".",
        "inner-space": h + ". " + p + "." + s,
        "many-dots": "." * 4000,
        "bearer-twice": "Bearer " + valid_shape,
        "lowercase-scheme-whole": "bearer " + valid_shape,
        "basic-scheme": "Basic YWxpY2U6c2VjcmV0",
        "not-base64": "!!!.@@@.###",
        "json-header-not-object": b64("[1,2]") + "." + p + "." + s,
        "deep-json-header": b64("[" * 200 + "]" * 200) + "." + p + "." + s,
        "huge-payload": h + "." + b64(json.dumps(claims(pad="x" * 5000))) + "." + s,
        "non-canonical-sig-bits": h + "." + p + "." + s[:-1] + ("B" if s[-1] == "A" else "A"),
    })
    for name, value in seeds.items():
        write("token", name, value)


def path_seeds():
    text = open(os.path.join(ROOT, "src", "route", "tests.rs"), encoding="utf-8").read()
    targets = sorted(set(re.findall(r'\("(?:GET|HEAD|get|POST)", "([^"]+)"', text)))
    h3 = [
        "/wiki/rest/api/%2e%2e/admin", "/wiki/rest/api/%252e%252e/admin", "/wiki/rest/api/..%2fadmin",
        "/wiki/rest/api%2Fsearch", "/wiki/rest/api/%5Csearch", "/wiki/rest/api/content/1\\2",
        "//wiki/rest/api/search", "/wiki///rest/api/search", "/wiki/./rest/api/search",
        "/wiki/rest/api/content/1;jsessionid=x", "/wiki/rest/api/..;/admin", "/wiki/rest/api/search%00",
        "/wiki/rest/api/search.", "/wiki/rest/api/search/", "/wiki/rest/api/%2e/search",
        "/WIKI/Rest/API/search?cql=x", "/wiki/rest/api/%c0%afsearch", "/wiki/rest/api\uff0fsearch",
        "/wiki/rest/api/search%23x", "/wiki/rest/api/search%3Fcql=x", "/wiki/rest/api/search?cql=x#frag",
        "http://evil.example/wiki/rest/api/content/1", "*", "/rest/api/content/42?expand=space",
        "/download/attachments/42/a%20b.png?version=2", "/wiki/api/v2/pages/42?body-format=storage",
        "/wiki/api/v2/pages?limit=5&sort=-title&cursor=abc", "/wiki/api/v2/spaces/1/pages?depth=all",
        "/rest/servicedeskapi/servicedesk/1/knowledgebase/article?query=vpn&highlight=true",
        "/wiki/download/attachments/100005/diagram%20CANARY.png?version=1&api=v2",
    ]
    for i, t in enumerate(targets + h3):
        write("canonicalize", "%03d" % i, t)


def json_seeds():
    deep = '{"results":' + "[" * 70 + "]" * 70 + ',"start":0,"limit":25}'
    seeds = {
        "deep-nesting": deep,
        "duplicate-keys": '{"results":[{"id":"1001","id":"1002","type":"page","title":"t"}],"start":0,"limit":2,"size":1}',
        "escaped-key": '{"res\\u0075lts":[],"start":0,"limit":1}',
        "rendered-body": '{"id":"1002","type":"page","title":"t","body":{"view":{"value":"<p>x</p>","representation":"view"}},"space":{"key":"KB"},"ancestors":[],"metadata":{"labels":{"results":[],"start":0,"limit":200,"size":0}}}',
        "results-not-array": '{"results":{"id":"1"},"start":0,"limit":1}',
        "null-everywhere": '{"results":[null,{"id":null,"type":null,"content":null}],"start":null,"limit":null,"_links":null}',
        "hidden-ancestor": '{"results":[{"id":"2002","type":"page","status":"current","title":"Kept","space":{"key":"KB"},"ancestors":[{"id":"7777","type":"page","title":"Hidden parent 7777","_links":{"webui":"/spaces/KB/pages/7777/Hidden"}}],"metadata":{"labels":{"results":[],"start":0,"limit":200,"size":0,"_links":{}}},"_links":{"webui":"/spaces/KB/pages/2002/Kept"}}],"start":0,"limit":25,"size":1,"_links":{}}',
        "v2-hidden-parent": '{"results":[{"id":"3002","status":"current","title":"Kept","spaceId":"1","parentId":"9999","parentType":"page","_links":{"webui":"/spaces/KB/pages/3002"}}],"_links":{"next":"/wiki/api/v2/pages?cursor=abc"}}',
        "jsm-mixed": '{"_expands":[],"size":3,"start":0,"limit":3,"isLastPage":false,"_links":{},"values":[{"title":"A","excerpt":"x","source":{"type":"confluence","pageId":"4002","spaceKey":"KB"}},{"title":"B","excerpt":null,"source":{"type":"confluence","pageId":"4003","spaceKey":"KB"}},{"title":"C","source":{"type":"jira","pageId":"4004"}}]}',
        "lone-surrogate": '{"results":[],"start":0,"limit":1,"x":"\\ud800"}',
        "numbers": '{"results":[],"start":1e400,"limit":-0,"size":00}',
        "trailing-data": '{"results":[],"start":0,"limit":1} {}',
        "bom": "\ufeff{\"results\":[],\"start\":0,\"limit\":1}",
        "not-utf8": b'{"results":[],"title":"\xff\xfe"}',
    }
    for name, value in seeds.items():
        write("json_filter", name + ".json", value)


def rust_unescape(text):
    """Decodes the escapes of a plain Rust string literal (\\n, \\", \\u{..}, line continuations)."""
    text = re.sub(r"\\\n\s*", "", text)
    text = re.sub(r"\\u\{([0-9a-fA-F]+)\}", lambda m: chr(int(m.group(1), 16)), text)
    simple = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", '"': '"', "\\": "\\", "'": "'"}
    return re.sub(r"\\(.)", lambda m: simple.get(m.group(1), m.group(0)), text)


def storage_seeds():
    pat = re.compile(r'r#"(.*?)"#|"((?:[^"\\]|\\.)*<(?:[^"\\]|\\.)*)"', re.S)
    n = 0
    for rel in [("src", "portal", "render_tests_hostile.rs"), ("src", "filter", "storage", "tests.rs")]:
        text = open(os.path.join(ROOT, *rel), encoding="utf-8").read()
        for raw, plain in pat.findall(text):
            body = raw or rust_unescape(plain)
            if "<" not in body or len(body) > 4000:
                continue
            write("storage_rewrite", "%s-%03d.xml" % (rel[-1].split(".")[0], n), body)
            n += 1
    extra = {
        "site-listings": '<p>a</p><ac:structured-macro ac:name="children"/><ac:structured-macro ac:name="contentbylabel"><ac:parameter ac:name="labels">faq, vpn</ac:parameter><ac:parameter ac:name="max">5</ac:parameter></ac:structured-macro>',
        "forged-stub": '<ac:structured-macro ac:name="kbgate-listing"><ac:parameter ac:name="index">0</ac:parameter><p>SECRET</p></ac:structured-macro>',
        "deep-nesting": "<div>" * 80 + "x" + "</div>" * 80,
        "entity-link": '<ac:link><ri:page ri:content-title="Acme &amp; co"/><ac:link-body>&#106;avascript:x</ac:link-body></ac:link>',
    }
    for name, value in extra.items():
        write("storage_rewrite", name + ".xml", value)


if __name__ == "__main__":
    token_seeds()
    path_seeds()
    json_seeds()
    storage_seeds()
    for t in sorted(os.listdir(CORPUS)):
        print(t, len(os.listdir(os.path.join(CORPUS, t))))
