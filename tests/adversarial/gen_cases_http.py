"""HTTP-layer cases, threats.md §1.3 rows H1–H12: framing and smuggling as raw socket bytes,
Host confusion, every path payload on three routes, spoofed identity and forwarding headers,
hop-by-hop abuse, methods, sizes, upgrades, and what kbgate's answers must not carry."""

from gen_common import GLOBEX_ID, JSM, SEARCH, SHARED, SHARED_FILE, V2_PAGE, case

AUTH = "Host: {host}\\r\\nAuthorization: Bearer {token}\\r\\n"
SMUGGLED = ("GET /wiki/rest/api/content/100006 HTTP/1.1\\r\\nHost: {host}\\r\\n"
            "Authorization: Bearer {token}\\r\\n\\r\\n")

# A complete request of fixed length (no placeholders), for bodies that must be counted.
INNER = "GET /wiki/rest/api/content/100006 HTTP/1.1\\r\\nHost: kbgate\\r\\n\\r\\n"


def raw(row, slug, title, text, status, forwarded=False, **extra):
    # Unless a case counts answers (then kbgate must close by itself), the client asks for the
    # connection to close after the answer, so a refused request does not wait for the idle
    # timeout.
    head_end = text.find("\\r\\n\\r\\n")
    if "Connection: close" not in text and "expect_responses" not in extra and head_end > 0:
        text = text[:head_end] + "\\r\\nConnection: close" + text[head_end:]
    return case(row, slug, title, raw=text, expect_status=list(status), forwarded=forwarded,
                **extra)


def get_line(target=SEARCH, method="GET", version="HTTP/1.1"):
    return f"{method} {target} {version}\\r\\n"


def smuggling():
    c = []
    s = get_line()
    body5 = "hello"
    c += [
        raw("H1", "cl-te-with-a-smuggled-request",
            "CL.TE: Content-Length 4 and chunked, a second request hidden in the body",
            s + AUTH + "Content-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n"
            + SMUGGLED, [400], expect_responses=1),
        raw("H1", "te-cl-with-a-smuggled-request", "TE.CL: chunked then Content-Length",
            s + AUTH + "Transfer-Encoding: chunked\\r\\nContent-Length: 4\\r\\n\\r\\n5c\\r\\nGPOST / HTTP/1.1\\r\\n\\r\\n0\\r\\n\\r\\n",
            [400], expect_responses=1),
        raw("H1", "two-different-content-lengths", "Content-Length 5 and 6",
            s + AUTH + "Content-Length: 5\\r\\nContent-Length: 6\\r\\n\\r\\n" + body5, [400],
            expect_responses=1),
        raw("H1", "two-equal-content-lengths-with-a-body", "Content-Length 5 twice and a body on GET",
            s + AUTH + "Content-Length: 5\\r\\nContent-Length: 5\\r\\nConnection: close\\r\\n\\r\\n" + body5,
            [400]),
        raw("H1", "content-length-plus-sign", "Content-Length: +5",
            s + AUTH + "Content-Length: +5\\r\\n\\r\\n" + body5, [400]),
        raw("H1", "content-length-list", "Content-Length: 5, 5",
            s + AUTH + "Content-Length: 5, 5\\r\\n\\r\\n" + body5, [400]),
        raw("H1", "transfer-encoding-xchunked", "Transfer-Encoding: xchunked",
            s + AUTH + "Transfer-Encoding: xchunked\\r\\n\\r\\n0\\r\\n\\r\\n", [400, 501]),
        raw("H1", "transfer-encoding-chunked-tab", "Transfer-Encoding: chunked<TAB> on a GET",
            s + AUTH + "Transfer-Encoding: chunked\\t\\r\\n\\r\\n0\\r\\n\\r\\n", [400]),
        raw("H1", "transfer-encoding-gzip-chunked", "Transfer-Encoding: gzip, chunked on a GET",
            s + AUTH + "Transfer-Encoding: gzip, chunked\\r\\nConnection: close\\r\\n\\r\\n0\\r\\n\\r\\n",
            [400, 501]),
        raw("H1", "transfer-encoding-uppercase", "Transfer-Encoding: CHUNKED on a GET",
            s + AUTH + "Transfer-Encoding: CHUNKED\\r\\n\\r\\n0\\r\\n\\r\\n", [400]),
        raw("H1", "transfer-encoding-space-before-colon", "Transfer-Encoding : chunked",
            s + AUTH + "Transfer-Encoding : chunked\\r\\n\\r\\n0\\r\\n\\r\\n", [400]),
        raw("H1", "two-transfer-encoding-headers", "Transfer-Encoding twice (chunked, identity)",
            s + AUTH + "Transfer-Encoding: chunked\\r\\nTransfer-Encoding: identity\\r\\n\\r\\n0\\r\\n\\r\\n",
            [400, 501]),
        raw("H1", "obs-fold-header", "an obs-fold continuation line (X-User: alice / admin)",
            s + AUTH + "X-User: alice\\r\\n admin\\r\\nConnection: close\\r\\n\\r\\n", [400]),
        raw("H1", "obs-fold-authorization", "the Authorization header folded over two lines",
            s + "Host: {host}\\r\\nAuthorization: Bearer\\r\\n {token}\\r\\nConnection: close\\r\\n\\r\\n",
            [400]),
        raw("H1", "chunk-size-overflow", "a chunk size of 19 hex digits (RUSTSEC-2021-0079)",
            s + AUTH + "Transfer-Encoding: chunked\\r\\n\\r\\nffffffffffffffffff1\\r\\nhello\\r\\n0\\r\\n\\r\\n",
            [400]),
        raw("H1", "chunk-extension-bare-lf", "a chunk extension ending in a bare LF",
            s + AUTH + "Transfer-Encoding: chunked\\r\\n\\r\\n5;ext\\nhello\\r\\n0\\r\\n\\r\\n", [400]),
        raw("H1", "http10-with-transfer-encoding", "HTTP/1.0 with Transfer-Encoding: chunked",
            get_line(version="HTTP/1.0") + AUTH + "Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n",
            [400]),
        raw("H1", "nul-in-a-header-value", "NUL inside a header value",
            s + AUTH + "X-Note: a\\x00b\\r\\nConnection: close\\r\\n\\r\\n", [400]),
        raw("H1", "get-with-a-body", "GET with Content-Length 5 and a body",
            s + AUTH + "Content-Length: 5\\r\\nConnection: close\\r\\n\\r\\n" + body5, [400]),
        raw("H1", "head-with-a-body", "HEAD with Content-Length 5 and a body",
            get_line(method="HEAD") + AUTH + "Content-Length: 5\\r\\nConnection: close\\r\\n\\r\\n" + body5,
            [400]),
        raw("H1", "body-holding-a-whole-request",
            "GET whose Content-Length body is a complete second request: one answer, 400",
            s + AUTH + f"Content-Length: {len(INNER.replace(chr(92) + 'r' + chr(92) + 'n', 'xx'))}\\r\\n"
            "Connection: close\\r\\n\\r\\n"
            + INNER, [400], expect_responses=1),
        raw("H1", "bare-lf-line-endings",
            "request line and headers ending in bare LF: served as alice or refused",
            s.replace("\\r\\n", "\\n") + "Host: {host}\\nAuthorization: Bearer {token}\\nConnection: close\\n\\n",
            [200, 400], forwarded=True),
        raw("H1", "content-length-zero-is-fine",
            "control: GET with Content-Length: 0 is an ordinary request",
            s + AUTH + "Content-Length: 0\\r\\nConnection: close\\r\\n\\r\\n", [200], forwarded=True),
        raw("H1", "two-pipelined-requests-get-two-answers",
            "control: two plain pipelined GETs get exactly two answers (the counter works)",
            s + AUTH + "\\r\\n" + s + AUTH + "Connection: close\\r\\n\\r\\n", [200], forwarded=True,
            expect_responses=2),
        raw("H1", "body-on-a-site-page", "a KB site page GET with a body",
            get_line("/search?q=vpn") + AUTH + "Content-Length: 5\\r\\nConnection: close\\r\\n\\r\\n" + body5,
            [400]),
        raw("H1", "chunked-body-on-a-site-page", "a KB site page GET with a chunked body",
            get_line("/articles/100004") + AUTH + "Transfer-Encoding: chunked\\r\\nConnection: close\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n",
            [400]),
        raw("H1", "body-on-the-login-route", "GET /_kbgate/login with a body",
            get_line("/_kbgate/login?rd=%2F") + "Host: {host}\\r\\nContent-Length: 5\\r\\nConnection: close\\r\\n\\r\\n" + body5,
            [400]),
    ]
    return c


def host_confusion():
    close = "Connection: close\\r\\n\\r\\n"
    tok = "Authorization: Bearer {token}\\r\\n"
    return [
        raw("H2", "absolute-form-naming-another-host",
            "GET http://evil.example/wiki/... with Host: kbgate",
            get_line("http://evil.example" + SEARCH) + "Host: {host}\\r\\n" + tok + close, [400]),
        raw("H2", "absolute-form-naming-this-host",
            "control: an absolute-form target naming kbgate's own host is served",
            get_line("http://{host}" + SEARCH) + "Host: {host}\\r\\n" + tok + close, [200],
            forwarded=True),
        raw("H2", "absolute-form-with-userinfo", "GET http://alice@evil.example/wiki/...",
            get_line("http://alice@evil.example" + SEARCH) + "Host: {host}\\r\\n" + tok + close,
            [400]),
        raw("H2", "absolute-form-on-a-site-page", "GET http://evil.example/articles/100004",
            get_line("http://evil.example/articles/100004") + "Host: {host}\\r\\n" + tok + close,
            [400]),
        raw("H2", "two-host-headers", "two Host headers (kbgate's, then another)",
            get_line() + "Host: {host}\\r\\nHost: evil.example\\r\\n" + tok + close, [400]),
        raw("H2", "two-host-headers-on-a-site-page", "two Host headers on a KB site page",
            get_line("/articles/100004") + "Host: {host}\\r\\nHost: evil.example\\r\\n" + tok + close,
            [400]),
        raw("H2", "host-of-another-site", "Host: evil.example (not kbgate's public host)",
            get_line() + "Host: evil.example\\r\\n" + tok + close, [400]),
        raw("H2", "host-with-userinfo", "Host: alice@<kbgate>",
            get_line() + "Host: alice@{host}\\r\\n" + tok + close, [400]),
        raw("H2", "no-host-header", "an HTTP/1.1 request without Host (RFC 9112 §3.2: 400)",
            get_line() + tok + close, [400]),
        raw("H2", "connect-method", "CONNECT evil.example:443",
            "CONNECT evil.example:443 HTTP/1.1\\r\\nHost: evil.example:443\\r\\n" + tok + close,
            [400, 405]),
        raw("H2", "options-asterisk", "OPTIONS * (server-wide options)",
            "OPTIONS * HTTP/1.1\\r\\nHost: {host}\\r\\n" + tok + close, [400, 404, 405]),
    ]


# H3: path payloads. Each maps (prefix, last segment, query) to a target that a lenient
# normalizer would turn into prefix/last (or something near it).
PAYLOADS = [
    ("dot-dot-encoded", "%2e%2e after a dummy segment", lambda p, l, q: f"{p}/x/%2e%2e/{l}{q}"),
    ("dot-dot-encoded-upper", "%2E%2E after a dummy segment", lambda p, l, q: f"{p}/x/%2E%2E/{l}{q}"),
    ("dot-dot-double-encoded", "%252e%252e (double encoding)", lambda p, l, q: f"{p}/x/%252e%252e/{l}{q}"),
    ("dot-dot-raw", "a raw /x/../ segment", lambda p, l, q: f"{p}/x/../{l}{q}"),
    ("dot-dot-encoded-slash", "..%2f", lambda p, l, q: f"{p}/x/..%2f{l}{q}"),
    ("dot-segment", "a /./ segment", lambda p, l, q: f"{p}/./{l}{q}"),
    ("dot-encoded-segment", "a /%2e/ segment", lambda p, l, q: f"{p}/%2e/{l}{q}"),
    ("encoded-slash", "%2F instead of /", lambda p, l, q: f"{p}%2F{l}{q}"),
    ("encoded-slash-lower", "%2f instead of /", lambda p, l, q: f"{p}%2f{l}{q}"),
    ("encoded-backslash", "%5C instead of /", lambda p, l, q: f"{p}%5C{l}{q}"),
    ("raw-backslash", "a raw backslash instead of /", lambda p, l, q: f"{p}\\{l}{q}"),
    ("double-slash", "//", lambda p, l, q: f"{p}//{l}{q}"),
    ("triple-slash", "///", lambda p, l, q: f"{p}///{l}{q}"),
    ("leading-double-slash", "a leading //", lambda p, l, q: f"/{p}/{l}{q}"),
    ("semicolon-parameter", ";jsessionid=x (Tomcat path parameter)", lambda p, l, q: f"{p}/{l};jsessionid=x{q}"),
    ("dot-dot-semicolon", "/..;/ (Tomcat)", lambda p, l, q: f"{p}/x/..;/{l}{q}"),
    ("encoded-nul", "%00 after the last segment", lambda p, l, q: f"{p}/{l}%00{q}"),
    ("trailing-dot", "a trailing .", lambda p, l, q: f"{p}/{l}.{q}"),
    ("trailing-slash", "a trailing /", lambda p, l, q: f"{p}/{l}/{q}"),
    ("trailing-dot-dot", "a trailing /..", lambda p, l, q: f"{p}/{l}/..{q}"),
    ("upper-case", "the path in upper case", lambda p, l, q: f"{p.upper()}/{l.upper()}{q}"),
    ("overlong-utf8-slash", "%c0%af (overlong UTF-8 /)", lambda p, l, q: f"{p}%c0%af{l}{q}"),
    ("fullwidth-slash", "%EF%BC%8F (full-width solidus)", lambda p, l, q: f"{p}%EF%BC%8F{l}{q}"),
    ("encoded-hash", "%23 after the last segment", lambda p, l, q: f"{p}/{l}%23x{q}"),
    ("encoded-question-mark", "%3F then a rendered expansion", lambda p, l, q: f"{p}/{l}%3Fexpand=body.view"),
    ("raw-non-ascii", "raw UTF-8 bytes in the path", lambda p, l, q: f"{p}/{l}\u00e9{q}"),
    ("encoded-crlf", "%0d%0a and a header after the last segment", lambda p, l, q: f"{p}/{l}%0d%0aX-Injected:%201{q}"),
    ("encoded-tab", "%09 after the last segment", lambda p, l, q: f"{p}/{l}%09{q}"),
    ("bad-percent-escape", "%zz (not an escape)", lambda p, l, q: f"{p}/{l}%zz{q}"),
]
ROUTES = [
    ("search", "the API search", "/wiki/rest/api", "search", "?cql=type%3Dpage"),
    ("content", f"a globex page ({GLOBEX_ID})", "/wiki/rest/api/content", GLOBEX_ID, ""),
    ("article", f"the site article of a globex page ({GLOBEX_ID})", "/articles", GLOBEX_ID, ""),
]


def paths():
    c = []
    for rslug, rtitle, p, l, q in ROUTES:
        for pslug, ptitle, f in PAYLOADS:
            c.append(case("H3", f"{rslug}-{pslug}", f"{rtitle} reached through {ptitle}",
                          target=f(p, l, q), expect_status=[400, 404], forwarded=False))
    return c


SPOOFED = [
    ("x-forwarded-for", "X-Forwarded-For", "10.0.0.1"),
    ("x-forwarded-host", "X-Forwarded-Host", "evil.example"),
    ("x-forwarded-proto", "X-Forwarded-Proto", "gopher"),
    ("x-forwarded-port", "X-Forwarded-Port", "8443"),
    ("x-forwarded-prefix", "X-Forwarded-Prefix", "/admin"),
    ("x-forwarded-uri", "X-Forwarded-Uri", "/wiki/admin/users.action"),
    ("forwarded", "Forwarded", "for=10.0.0.1;host=evil.example;proto=https"),
    ("x-real-ip", "X-Real-IP", "10.0.0.1"),
    ("x-original-url", "X-Original-URL", "/wiki/admin/users.action"),
    ("x-rewrite-url", "X-Rewrite-URL", "/wiki/admin/users.action"),
    ("x-envoy-original-path", "X-Envoy-Original-Path", "/wiki/admin/users.action"),
    ("x-kbgate-org", "X-Kbgate-Org", "globex"),
    ("x-kbgate-orgs", "X-Kbgate-Orgs", "globex,initech"),
    ("x-remote-user", "X-Remote-User", "admin"),
    ("x-auth-request-email", "X-Auth-Request-Email", "admin@example.com"),
    ("x-auth-request-user", "X-Auth-Request-User", "admin"),
    ("underscore-x-forwarded-email", "X_Forwarded_Email", "admin@example.com"),
    ("x-forwarded-user", "X-Forwarded-User", "admin"),
    ("x-ausername", "X-AUSERNAME", "admin"),
    ("cookie-jsessionid", "Cookie", "JSESSIONID=stolen; seraph.rememberme.cookie=x"),
    ("x-atlassian-token", "X-Atlassian-Token", "no-check"),
    ("proxy-authorization", "Proxy-Authorization", "Basic YWRtaW46YWRtaW4="),
    ("origin", "Origin", "https://evil.example"),
    ("mixed-case-x-forwarded-for", "x-FORWARDED-for", "10.0.0.2"),
]


def spoofing():
    c = []
    for slug, name, value in SPOOFED:
        c.append(case("H4", f"spoofed-{slug}",
                      f"{name}: {value} on alice's search reaches nothing upstream and changes nothing",
                      target=SEARCH, headers=[[name, value]], expect_status=[200], forwarded=True,
                      upstream_header_absent=[name.lower()],
                      upstream_header_prefix={"authorization": "Basic "},
                      upstream_target_lacks=["admin"]))
    c += [
        case("H4", "spoofed-user-agent-is-replaced", "a client User-Agent is not passed upstream",
             target=SEARCH, headers=[["User-Agent", "EvilBot/1.0"]], expect_status=[200],
             forwarded=True, upstream_header_prefix={"user-agent": "kbgate/",
                                                     "authorization": "Basic "}),
        case("H4", "spoofed-authorization-for-confluence",
             "an Authorization of Confluence's own Basic form is a bad bearer here, never passed on",
             identity="none", target=SEARCH,
             headers=[["Authorization", "Basic c3ZjQGtiZ2F0ZS5leGFtcGxlOnNpbS10b2tlbg=="]],
             expect_status=[401], forwarded=False),
        case("H4", "request-id-with-path-characters",
             "an X-Request-Id with path characters is replaced by kbgate's own",
             target=SEARCH, headers=[["X-Request-Id", "../../etc/passwd"]], expect_status=[200],
             forwarded=True, expect_header_lacks={"x-request-id": "etc"}),
        case("H4", "spoofed-headers-on-a-site-page", "forwarding and identity headers on a KB site page",
             target="/articles/100004",
             headers=[["X-Forwarded-For", "10.0.0.1"], ["X-Kbgate-Org", "globex"],
                      ["X-Original-URL", "/wiki/admin"]],
             expect_status=[200], forwarded=True,
             upstream_header_absent=["x-forwarded-for", "x-kbgate-org", "x-original-url"]),
        case("H4", "spoofed-headers-on-jsm-search", "forwarding and identity headers on JSM search",
             target=JSM, headers=[["X-Forwarded-For", "10.0.0.1"], ["X-ExperimentalApi", "opt-in"],
                                  ["Cookie", "JSESSIONID=stolen"]],
             expect_status=[200], forwarded=True,
             upstream_header_absent=["x-forwarded-for", "x-experimentalapi", "cookie"]),
    ]
    return c


def hop_by_hop():
    c = []
    for slug, conn, extra, title, checks in [
        ("connection-names-x-forwarded-for", "close, X-Forwarded-For",
         [["X-Forwarded-For", "10.0.0.1"]], "Connection naming X-Forwarded-For",
         {"upstream_header_absent": ["x-forwarded-for"]}),
        ("connection-names-authorization", "close, Authorization", [],
         "Connection naming Authorization: kbgate's service credentials still go upstream",
         {"upstream_header_prefix": {"authorization": "Basic "}}),
        ("connection-names-accept-encoding", "close, Accept-Encoding", [["Accept-Encoding", "gzip"]],
         "Connection naming Accept-Encoding: upstream is still asked for identity",
         {"upstream_header": {"accept-encoding": "identity"}}),
        ("connection-names-accept", "close, Accept", [["Accept", "application/xml"]],
         "Connection naming Accept: upstream is still asked for JSON",
         {"upstream_header": {"accept": "application/json"}}),
        ("connection-names-x-request-id", "close, X-Request-Id", [["X-Request-Id", "adv-hop-1"]],
         "Connection naming X-Request-Id: kbgate still sends one",
         {"upstream_header_prefix": {"x-request-id": ""}}),
        ("connection-names-user-agent", "close, User-Agent", [["User-Agent", "EvilBot/1.0"]],
         "Connection naming User-Agent: upstream still gets kbgate's",
         {"upstream_header_prefix": {"user-agent": "kbgate/", "authorization": "Basic "}}),
        ("connection-names-content-length", "close, Content-Length", [],
         "Connection naming Content-Length", {"upstream_header_absent": ["content-length"]}),
        ("connection-names-host", "close, Host", [],
         "Connection naming Host: the upstream Host comes from configuration",
         {"upstream_header_prefix": {"host": "127.0.0.1:"}}),
    ]:
        fields = {"upstream_header_prefix": {"authorization": "Basic "}}
        fields.update(checks)
        c.append(case("H5", slug, title, target=SEARCH,
                      headers=[["Connection", conn]] + extra, expect_status=[200, 401],
                      forwarded=True, **fields))
    for slug, name, value in [
        ("keep-alive", "Keep-Alive", "timeout=5, max=1000"),
        ("proxy-connection", "Proxy-Connection", "keep-alive"),
        ("te-trailers", "TE", "trailers"),
        ("trailer", "Trailer", "X-Kbgate-Org"),
        ("upgrade-without-connection", "Upgrade", "websocket"),
    ]:
        c.append(case("H5", f"hop-by-hop-{slug}", f"{name}: {value} is not forwarded",
                      target=SEARCH, headers=[[name, value]], expect_status=[200, 400],
                      forwarded=True, upstream_header_absent=[name.lower()],
                      expect_header_absent=["upgrade"]))
    return c


def methods():
    c = []
    for m in ["POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND", "OPTIONS", "FOO"]:
        headers = [["Content-Length", "0"]] if m in ("POST", "PUT", "PATCH") else []
        c.append(case("H6", f"method-{m.lower()}-on-content", f"{m} on a shared page: refused",
                      method=m, target=SHARED, headers=headers, expect_status=[405],
                      forwarded=False))
    c += [
        case("H6", "lowercase-get", "get (lower case) is another method (E2)", method="get",
             target=SHARED, expect_status=[400, 405], forwarded=False),
        case("H6", "post-to-search", "POST to the search endpoint", method="POST", target=SEARCH,
             headers=[["Content-Length", "0"]], expect_status=[405], forwarded=False),
        case("H6", "post-to-a-site-page", "POST to the KB site search page", method="POST",
             target="/search?q=vpn", headers=[["Content-Length", "0"]], expect_status=[405],
             forwarded=False),
        case("H6", "delete-a-site-article", "DELETE of a KB site article", method="DELETE",
             target="/articles/100004", expect_status=[405], forwarded=False),
        case("H6", "post-to-login", "POST to /_kbgate/login", method="POST",
             target="/_kbgate/login?rd=%2F", identity="none", headers=[["Content-Length", "0"]],
             expect_status=[405], forwarded=False),
        case("H6", "post-to-convert-view", "POST to contentbody/convert/view (renders as the service account)",
             method="POST", target="/wiki/rest/api/contentbody/convert/view",
             headers=[["Content-Length", "0"]], expect_status=[404, 405], forwarded=False),
        case("H6", "method-in-query", "_method=PUT in the query", target=SEARCH + "&_method=PUT",
             expect_status=[400], forwarded=False),
        case("H6", "head-is-allowed", "control: HEAD of the search is answered without a body",
             method="HEAD", target=SEARCH, expect_status=[200], forwarded=True),
    ]
    for name, value in [("X-HTTP-Method-Override", "DELETE"), ("X-HTTP-Method", "PUT"),
                        ("X-Method-Override", "PATCH")]:
        c.append(case("H6", f"override-{name.lower()}",
                      f"{name}: {value} on a GET: still a GET upstream, header dropped",
                      target=SEARCH, headers=[[name, value]], expect_status=[200, 400],
                      forwarded=True, upstream_method="GET",
                      upstream_header_absent=[name.lower()]))
    return c


def sizes():
    filler = "{repeat:70:X-Filler: a\\r\\n}"
    return [
        raw("H7", "seventy-headers", "70 header fields (over kbgate's 64)",
            get_line() + AUTH + filler + "Connection: close\\r\\n\\r\\n", [400, 431]),
        raw("H7", "half-megabyte-header", "one 500 KB header value",
            get_line() + AUTH + "X-Big: {repeat:500000:a}\\r\\nConnection: close\\r\\n\\r\\n",
            [400, 431]),
        raw("H7", "forty-kilobyte-header-name", "a 40 KB header name (kbgate's head limit is 16 KiB)",
            get_line() + AUTH + "{repeat:40000:X}: v\\r\\nConnection: close\\r\\n\\r\\n", [400, 431]),
        case("H7", "eight-kilobyte-cookie", "an 8 KiB cookie alongside a valid token",
             target=SEARCH, headers=[["Cookie", "junk={repeat:8192:b}"]],
             expect_status=[200, 400, 431], forwarded=True),
        case("H7", "sixty-four-kilobyte-uri", "a 64 KB request target",
             target="/wiki/rest/api/search?cql=text~{repeat:65000:a}", expect_status=[400, 414, 431],
             forwarded=False),
        case("H7", "ten-thousand-query-parameters", "10,000 query parameters",
             target=SEARCH + "&{repeat:10000:a=1&}z=1", expect_status=[400, 414, 431],
             forwarded=False),
        case("H7", "two-thousand-query-parameters-within-the-size-limit",
             "2,000 query parameters in a target under the URI limit: refused by the allow-list",
             target=SEARCH + "&{repeat:2000:a&}z", expect_status=[400], forwarded=False),
        raw("H7", "declared-hundred-megabyte-body", "GET declaring a 100 MB body (none sent)",
            get_line() + AUTH + "Content-Length: 104857600\\r\\nConnection: close\\r\\n\\r\\n",
            [400, 413], read_timeout_ms=5000),
    ]


def protocol():
    return [
        raw("H9", "http2-prior-knowledge-preface",
            "the HTTP/2 connection preface on the HTTP/1.1 listener: no answer or a refusal",
            "PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n", [0, 400, 505], read_timeout_ms=3000),
        raw("H10", "h2c-upgrade", "Upgrade: h2c with HTTP2-Settings: never 101, never forwarded",
            get_line() + AUTH + "Connection: Upgrade, HTTP2-Settings, close\\r\\nUpgrade: h2c\\r\\n"
            "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\\r\\n\\r\\n", [200, 400], forwarded=True,
            expect_header_absent=["upgrade"], upstream_header_absent=["upgrade", "http2-settings"]),
        raw("H10", "websocket-upgrade-on-search", "a websocket handshake on the API search",
            get_line() + AUTH + "Connection: Upgrade, close\\r\\nUpgrade: websocket\\r\\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n",
            [200, 400, 426], forwarded=True, expect_header_absent=["upgrade", "sec-websocket-accept"],
            upstream_header_absent=["upgrade", "sec-websocket-key"]),
        raw("H10", "websocket-upgrade-on-a-site-page", "a websocket handshake on a KB site page",
            get_line("/articles/100004") + AUTH + "Connection: Upgrade, close\\r\\nUpgrade: websocket\\r\\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n",
            [200, 400, 426], forwarded=True, expect_header_absent=["upgrade", "sec-websocket-accept"]),
        raw("H10", "tls-upgrade", "Upgrade: TLS/1.2 (RFC 2817)",
            get_line() + AUTH + "Connection: Upgrade, close\\r\\nUpgrade: TLS/1.2\\r\\n\\r\\n",
            [200, 400], forwarded=True, expect_header_absent=["upgrade"]),
        raw("H11", "tls-client-hello-on-plain-http",
            "TLS ClientHello bytes sent to the plain-HTTP listener: refused, not interpreted",
            "\\x16\\x03\\x01\\x00\\x2f\\x01\\x00\\x00\\x2b\\x03\\x03" + "\\x00" * 32 + "\\x00\\x00\\x02\\x13\\x01\\x01\\x00",
            [0, 400], read_timeout_ms=3000),
    ]


def response_headers():
    c = []
    bad = ["set-cookie", "x-ausername", "x-auserid", "x-asessionid", "x-seraph-loginreason",
           "www-authenticate", "access-control-allow-origin", "etag", "last-modified"]
    for slug, target, title in [
        ("search", SEARCH, "the API search"),
        ("content", SHARED, "a shared page"),
        ("v2-page", V2_PAGE, "a v2 page"),
        ("jsm-search", JSM, "JSM search"),
        ("site-article", "/articles/100004", "a KB site article"),
        ("download", SHARED_FILE, "an attachment download"),
    ]:
        c.append(case("H12", f"session-headers-stripped-from-{slug}",
                      f"upstream Set-Cookie and X-AUSERNAME/X-ASESSIONID on {title} never reach the client",
                      target=target, upstream_fault="session-headers", expect_status=[200],
                      forwarded=True, expect_header_absent=bad,
                      expect_header_contains={"cache-control": "no-store"}))
    c += [
        case("H12", "upstream-cookies-and-etag-stripped",
             "upstream Set-Cookie, ETag and Last-Modified on a page never reach the client",
             target=SHARED, upstream_fault="set-cookie", expect_status=[200], forwarded=True,
             expect_header_absent=bad),
        case("H12", "not-found-answer-is-kbgates-own", "a hidden page's 404 carries only kbgate's headers",
             target=f"/wiki/rest/api/content/{GLOBEX_ID}", upstream_fault="session-headers",
             expect_status=[404], forwarded=True, expect_header_absent=bad,
             expect_header_contains={"cache-control": "no-store"}),
    ]
    return c


def http_cases():
    return (smuggling() + host_confusion() + paths() + spoofing() + hop_by_hop() + methods()
            + sizes() + protocol() + response_headers())
