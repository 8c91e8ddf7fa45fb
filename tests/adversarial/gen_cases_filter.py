"""Response-filter cases, threats.md §1.4 rows R1–R19, as request specs: negotiation and
conditional headers that must change nothing (and never reach upstream), JSONP, every forbidden
expansion, versions and statuses, side doors, batches, hidden ≡ missing, cache deception, and
the KB site's pages with hostile parameters."""

from gen_common import (GLOBEX_ID, JSM, MISSING_ID, SEARCH, SHARED, SHARED_FILE, SHARED_ID,
                        V2_PAGE, case, q)

ROUTES = [
    ("search", SEARCH, "the API search"),
    ("content", SHARED, "a shared page"),
    ("site-article", f"/articles/{SHARED_ID}", "a KB site article"),
    ("jsm-search", JSM, "JSM search"),
    ("download", SHARED_FILE, "an attachment download"),
]
# Texts no answer may carry: the CQL wrapper kbgate sends upstream (its `label not in (…)`
# clauses, raw or URL-encoded) and Confluence's `cqlQuery` echo of it.
WRAPPER = ["cqlQuery", "not in (", "not+in+%28", "not%20in%20%28"]
# An error answer carries no label of any organization either.
ERROR_WRAPPER = WRAPPER + ["org-acme", "org-globex", "org-initech", "kb-internal"]


def negotiation():
    c = []
    # R1: compression is never negotiated upstream, and kbgate sends identity.
    for enc in ["gzip", "br", "gzip, deflate, br, zstd", "*"]:
        for slug, target, title in ROUTES[:4] if enc != "gzip" else ROUTES:
            if enc not in ("gzip", "*") and slug in ("jsm-search", "download"):
                continue
            c.append(case("R1", f"accept-encoding-{enc.split(',')[0].strip('*') or 'any'}-{slug}"
                          + ("-list" if "," in enc else ""),
                          f"Accept-Encoding: {enc} on {title}: upstream asked for identity, answer uncompressed",
                          target=target, headers=[["Accept-Encoding", enc]], expect_status=[200],
                          forwarded=True, upstream_header={"accept-encoding": "identity"},
                          expect_header_absent=["content-encoding"]))
    c += [
        case("R1", "gzip-from-upstream-is-refused",
             "upstream answers gzip although identity was asked: 502, no upstream byte",
             target=SEARCH, upstream_fault="gzip", expect_status=[502], forwarded=True,
             expect_header_absent=["content-encoding"]),
    ]
    # R3/R5: content negotiation never changes what upstream is asked for.
    for slug, accept in [("xml", "application/xml"), ("html", "text/html"), ("any", "*/*"),
                         ("json-q0", "application/json;q=0"), ("javascript", "application/javascript")]:
        c.append(case("R5", f"accept-{slug}-on-content",
                      f"Accept: {accept} on a shared page: upstream still asked for JSON",
                      target=SHARED, headers=[["Accept", accept]], expect_status=[200, 406],
                      forwarded=True, upstream_header={"accept": "application/json"},
                      expect_header_prefix={"content-type": "application/json"}))
    c.append(case("R3", "accept-xml-on-search", "Accept: application/xml on the search: JSON or 406",
                  target=SEARCH, headers=[["Accept", "application/xml"]], expect_status=[200, 406],
                  forwarded=True, upstream_header={"accept": "application/json"},
                  expect_header_prefix={"content-type": "application/json"}))
    # R18: no event streams.
    c.append(case("R18", "accept-event-stream", "Accept: text/event-stream on the search",
                  target=SEARCH, headers=[["Accept", "text/event-stream"]],
                  expect_status=[200, 406], forwarded=True,
                  expect_header_prefix={"content-type": "application/json"}))
    c.append(case("R18", "accept-event-stream-jsm", "Accept: text/event-stream on JSM search",
                  target=JSM, headers=[["Accept", "text/event-stream"]], expect_status=[200, 406],
                  forwarded=True, expect_header_prefix={"content-type": "application/json"}))
    return c


def conditionals():
    c = []
    # R7: ranges never reach upstream, and the whole answer comes back.
    for slug, target, title in ROUTES:
        c.append(case("R7", f"range-{slug}", f"Range: bytes=0-50 on {title}: the whole answer, 200",
                      target=target, headers=[["Range", "bytes=0-50"], ["If-Range", '"x"']],
                      expect_status=[200], forwarded=True,
                      upstream_header_absent=["range", "if-range"],
                      expect_header_absent=["content-range"]))
    c.append(case("R7", "partial-content-from-upstream-is-refused",
                  "upstream answers 206 with half a JSON document: 502",
                  target=SHARED, headers=[["Range", "bytes=0-50"]], upstream_fault="partial-content",
                  expect_status=[502], forwarded=True, expect_header_absent=["content-range"]))
    # R8: conditional requests are no oracle.
    for slug, name, value, target in [
        ("if-none-match-star-content", "If-None-Match", "*", SHARED),
        ("if-none-match-weak-search", "If-None-Match", 'W/"0"', SEARCH),
        ("if-none-match-hidden-page", "If-None-Match", "*", f"/wiki/rest/api/content/{GLOBEX_ID}"),
        ("if-modified-since-future-content", "If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT", SHARED),
        ("if-unmodified-since-epoch-content", "If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT", SHARED),
        ("if-match-content", "If-Match", '"nope"', SHARED),
        ("if-none-match-site-article", "If-None-Match", "*", f"/articles/{SHARED_ID}"),
        ("if-modified-since-download", "If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT", SHARED_FILE),
    ]:
        status = [404] if GLOBEX_ID in target else [200]
        c.append(case("R8", slug, f"{name}: {value}: answered in full, never 304/412, not forwarded",
                      target=target, headers=[[name, value]], expect_status=status,
                      forwarded=True, upstream_header_absent=[name.lower()],
                      expect_header_absent=["etag", "last-modified"]))
    c.append(case("R8", "not-modified-from-upstream-is-refused",
                  "upstream answers 304 for a page: kbgate cannot check it, so 502",
                  target=SHARED, upstream_fault="not-modified", expect_status=[502],
                  forwarded=True, expect_header_absent=["etag"]))
    # R9: per-customer answers are never cacheable, and cache-deception suffixes are unknown paths.
    for slug, target, title in ROUTES[:3]:
        c.append(case("R9", f"no-store-{slug}", f"{title} is private and never stored",
                      target=target, expect_status=[200], forwarded=True,
                      expect_header_contains={"cache-control": "no-store"}))
    for slug, target in [
        ("css-suffix-on-content", f"{SHARED}/x.css"),
        ("css-extension-on-content", f"{SHARED}.css"),
        ("js-suffix-on-search", "/wiki/rest/api/search.js?cql=type%3Dpage"),
        ("css-suffix-on-article", f"/articles/{SHARED_ID}/x.css"),
        ("css-extension-on-article", f"/articles/{SHARED_ID}.css"),
        ("static-looking-path", "/wiki/s/-/_/download/resources/x.css"),
    ]:
        c.append(case("R9", f"cache-deception-{slug}",
                      f"{target}: a static-looking suffix is an unknown path, never a cached page",
                      target=target, expect_status=[400, 404], forwarded=False,
                      expect_header_contains={"cache-control": "no-store"}))
    return c


def parameters():
    c = []
    # R4: JSONP.
    for slug, target in [
        ("search-callback", SEARCH + "&callback=x"),
        ("search-jsonp", SEARCH + "&jsonp=x"),
        ("content-callback", SHARED + "?callback=x"),
        ("content-jsonp-callback", SHARED + "?jsonp-callback=x"),
        ("space-callback", "/wiki/rest/api/space?callback=x"),
        ("v2-callback", V2_PAGE + "?callback=x"),
        ("jsm-callback", JSM + "&callback=x"),
    ]:
        c.append(case("R4", f"jsonp-{slug}", f"{target}: unknown parameter, refused",
                      target=target, expect_status=[400], forwarded=False))
    c.append(case("R4", "jsonp-on-a-site-page", "/search?q=vpn&callback=alert(1): ignored, never echoed",
                  target="/search?q=vpn&callback=alert(1)", expect_status=[200], forwarded=True,
                  expect_body_lacks=["alert(1)"], upstream_target_lacks=["callback"]))
    # R13: expansions.
    forbidden = ["body.view", "body.export_view", "body.styled_view", "body.anonymous_export_view",
                 "body.editor", "body.atlas_doc_format", "restrictions.read.restriction.user",
                 "childTypes.all", "operations", "descendants.attachment", "descendants.comment",
                 "ancestors.body.view", "children.page.body.view", "space.homepage.body.view",
                 "metadata.properties", "version.content", "body.storage,body.view",
                 "history.lastUpdated"]
    for e in forbidden:
        c.append(case("R13", f"expand-{e.replace(',', '-and-')}-on-content",
                      f"expand={e} on a shared page: not in the allow-list, refused",
                      target=f"{SHARED}?expand={e}", expect_status=[400], forwarded=False))
    for e in ["content.body.view", "content.children.page", "content.history",
              "content.restrictions", "content.body.export_view"]:
        c.append(case("R13", f"expand-{e}-on-search", f"expand={e} on the search: refused",
                      target=f"{SEARCH}&expand={e}", expect_status=[400], forwarded=False))
    for who, page, e, title in [
        ("alice", "100001", "children.page,descendants.page", "the KB home's children and descendants"),
        ("bob", "100013", "ancestors", "a shared page under an acme parent, with its ancestors"),
        ("bob", "100014", "ancestors,space.homepage,container", "a deeper shared page under acme"),
        ("alice", "100023", "ancestors", "a shared page five levels under globex pages"),
        ("alice", SHARED_ID, "children.attachment,children.comment,history,version", "attachments and comments"),
        ("carol", "100012", "descendants.page", "an acme parent page, read by initech"),
        ("alice", "100012", "descendants.page,children.page,metadata.labels", "acme's own subtree"),
        ("bob", "100001", "body.storage", "the KB home's storage body (children macro)"),
    ]:
        status = [404] if (who, page) == ("carol", "100012") else [200]
        c.append(case("R13", f"nested-{page}-for-{who}",
                      f"{title}: allowed expansions, nested hidden content filtered out",
                      identity=who, target=f"/wiki/rest/api/content/{page}?expand={q(e)}",
                      expect_status=status, forwarded=True))
    c.append(case("R13", "search-ancestors-and-labels-for-bob",
                  "search with content.ancestors and labels: hidden ancestors filtered out",
                  identity="bob", target=f"{SEARCH}&expand=content.ancestors,content.metadata.labels",
                  expect_status=[200], forwarded=True, expect_body_lacks=WRAPPER))
    # R15: versions and statuses.
    for slug, target in [
        ("version-param", f"{SHARED}?version=1"),
        ("status-historical", f"{SHARED}?status=historical"),
        ("status-draft", f"{SHARED}?status=draft"),
        ("status-trashed", f"{SHARED}?status=trashed"),
        ("status-any", f"{SHARED}?status=any"),
        ("status-archived", f"{SHARED}?status=archived"),
        ("historical-version-pair", f"{SHARED}?status=historical&version=1"),
        ("status-twice", f"{SHARED}?status=current&status=historical"),
        ("v2-version-param", f"{V2_PAGE}?version=1"),
        ("v2-status-trashed", "/wiki/api/v2/pages?status=trashed"),
    ]:
        c.append(case("R15", slug, f"{target}: only current content is served",
                      target=target, expect_status=[400], forwarded=False))
    for slug, target in [
        ("history-path", f"{SHARED}/history"),
        ("version-path", f"{SHARED}/version"),
        ("version-number-path", f"{SHARED}/version/1"),
        ("hidden-page-history", f"/wiki/rest/api/content/{GLOBEX_ID}/history"),
    ]:
        c.append(case("R15", slug, f"{target}: no such route",
                      target=target, expect_status=[404], forwarded=False))
    c.append(case("R15", "status-current-is-served", "control: status=current is the one status allowed",
                  target=f"{SHARED}?status=current", expect_status=[200], forwarded=True))
    return c


SIDE_DOORS = [
    ("prototype-search", "/wiki/rest/prototype/1/search?query=vpn"),
    ("prototype-search-dc", "/rest/prototype/1/search?query=vpn"),
    ("json-rpc", "/wiki/rpc/json-rpc/confluenceservice-v2/getPage?pageId=100006"),
    ("xml-rpc", "/wiki/rpc/xmlrpc"),
    ("dosearchsite", "/wiki/dosearchsite.action?queryString=vpn"),
    ("quicknav", "/wiki/rest/quicknav/1/search?query=vpn"),
    ("search-user", "/wiki/rest/api/search/user?cql=type%3Duser"),
    ("label-by-name", "/wiki/rest/api/label?name=org-globex"),
    ("longtask", "/wiki/rest/api/longtask"),
    ("audit", "/wiki/rest/api/audit"),
    ("convert-view", "/wiki/rest/api/contentbody/convert/view"),
    ("pdf-export", "/wiki/spaces/flyingpdf/pdfpageexport.action?pageId=100006"),
    ("word-export", "/wiki/exportword?pageId=100006"),
    ("viewpage-action", "/wiki/pages/viewpage.action?pageId=100006"),
    ("tiny-link", "/wiki/x/ABCD"),
    ("graphql-gateway", "/gateway/api/graphql"),
    ("cgraphql", "/cgraphql"),
    ("current-user", "/wiki/rest/api/user/current"),
    ("restrictions", f"/wiki/rest/api/content/{GLOBEX_ID}/restriction"),
    ("content-properties", f"/wiki/rest/api/content/{GLOBEX_ID}/property"),
    ("notifications", f"/wiki/rest/api/content/{GLOBEX_ID}/notification/child-created"),
    ("analytics", f"/wiki/rest/api/analytics/content/{GLOBEX_ID}/views"),
    ("look-and-feel", "/wiki/rest/api/settings/lookandfeel"),
    ("space-permissions", "/wiki/rest/api/space/KB/permission"),
    ("group-members", "/wiki/rest/api/group/confluence-users/member"),
    ("jsm-requests", "/rest/servicedeskapi/request"),
    ("jira-search", "/rest/api/2/search?jql=project%3DKB"),
    ("v2-admin-key", "/wiki/api/v2/admin-key"),
    ("dc-path-on-cloud", f"/rest/api/content/{GLOBEX_ID}"),
]


def side_doors():
    return [case("R16", f"side-door-{slug}", f"{target}: not an allowed route",
                 target=target, expect_status=[400, 404], forwarded=False)
            for slug, target in SIDE_DOORS]


def batches_and_hidden():
    c = []
    # R17: batches.
    for slug, target, status in [
        ("v2-ids-comma-list", f"/wiki/api/v2/pages?id={SHARED_ID},{GLOBEX_ID}", [200, 400]),
        ("v2-ids-repeated", f"/wiki/api/v2/pages?id={SHARED_ID}&id={GLOBEX_ID}", [200, 400]),
        ("v2-hidden-id-only", f"/wiki/api/v2/pages?id={GLOBEX_ID}", [200, 400, 404]),
        ("v2-three-hundred-ids", "/wiki/api/v2/pages?id=" + ",".join(str(100001 + i) for i in range(300)),
         [400]),
    ]:
        c.append(case("R17", slug, f"{target[:70]}: every element filtered on its own",
                      target=target, expect_status=status, forwarded=status != [400]))
    c.append(case("R17", "v2-title-lookup-is-filtered",
                  "v2 pages?title= is served as a filtered list, so a title lookup is no side door",
                  target="/wiki/api/v2/pages?title=Billing", expect_status=[200], forwarded=True))
    c.append(case("R17", "search-id-list-cql", "cql=id in (shared, globex): only the shared one comes back",
                  target=f"/wiki/rest/api/search?cql={q(f'id in ({SHARED_ID},{GLOBEX_ID})')}",
                  expect_status=[200, 400], forwarded=True, expect_body_lacks=WRAPPER))
    # R6/R19: a hidden item answers exactly like a missing one.
    for who, slug, method, hidden, missing in [
        ("alice", "head-content", "HEAD", f"/wiki/rest/api/content/{GLOBEX_ID}", f"/wiki/rest/api/content/{MISSING_ID}"),
        ("alice", "get-content", "GET", f"/wiki/rest/api/content/{GLOBEX_ID}", f"/wiki/rest/api/content/{MISSING_ID}"),
        ("alice", "get-internal-content", "GET", "/wiki/rest/api/content/100019", f"/wiki/rest/api/content/{MISSING_ID}"),
        ("alice", "get-eng-space-content", "GET", "/wiki/rest/api/content/300001", f"/wiki/rest/api/content/{MISSING_ID}"),
        ("carol", "get-conflicting-restrictions", "GET", "/wiki/rest/api/content/200004", f"/wiki/rest/api/content/{MISSING_ID}"),
        ("dave", "get-org-page-without-org", "GET", "/wiki/rest/api/content/100005", f"/wiki/rest/api/content/{MISSING_ID}"),
        ("alice", "head-site-article", "HEAD", f"/articles/{GLOBEX_ID}", f"/articles/{MISSING_ID}"),
        ("alice", "get-site-article", "GET", f"/articles/{GLOBEX_ID}", f"/articles/{MISSING_ID}"),
        ("alice", "get-child-pages", "GET", f"/wiki/rest/api/content/{GLOBEX_ID}/child/page", f"/wiki/rest/api/content/{MISSING_ID}/child/page"),
        ("alice", "get-labels", "GET", f"/wiki/rest/api/content/{GLOBEX_ID}/label", f"/wiki/rest/api/content/{MISSING_ID}/label"),
        ("alice", "get-attachments", "GET", f"/wiki/rest/api/content/{GLOBEX_ID}/child/attachment", f"/wiki/rest/api/content/{MISSING_ID}/child/attachment"),
        ("alice", "get-v2-page", "GET", f"/wiki/api/v2/pages/{GLOBEX_ID}", f"/wiki/api/v2/pages/{MISSING_ID}"),
        ("alice", "get-attachment-download-by-id", "GET",
         f"/wiki/rest/api/content/{GLOBEX_ID}/child/attachment/att{GLOBEX_ID}1/download",
         f"/wiki/rest/api/content/{MISSING_ID}/child/attachment/att{MISSING_ID}1/download"),
        ("alice", "head-download", "HEAD", f"/wiki/download/attachments/{GLOBEX_ID}/notes.txt",
         f"/wiki/download/attachments/{MISSING_ID}/notes.txt"),
        ("alice", "get-by-title-in-a-hidden-space", "GET", "/articles/by-title?space=ENG&title=Home",
         "/articles/by-title?space=KB&title=No%20such%20article%20xyz"),
    ]:
        row = "R6" if method == "HEAD" else "R19"
        c.append(case(row, f"hidden-like-missing-{slug}",
                      f"{method} {hidden} as {who} answers exactly like {missing}",
                      identity=who, method=method, target=hidden, expect_status=[404],
                      forwarded=True, same_answer_as=missing))
    return c


def echoes():
    c = []
    # R10/R11: kbgate's answers never echo the wrapper, the upstream address or a cqlQuery.
    for slug, target, status in [
        ("unbalanced-cql", f"/wiki/rest/api/search?cql={q('type = page AND (')}", [400]),
        ("unterminated-string-cql", "/wiki/rest/api/search?cql=" + q('title ~ "x'), [400]),
        ("unknown-field-cql", f"/wiki/rest/api/search?cql={q('nosuchfield = 1')}", [200, 400]),
        ("function-cql", f"/wiki/rest/api/search?cql={q('creator = currentUser()')}", [200, 400]),
    ]:
        c.append(case("R10", f"error-echo-{slug}", f"{target[:60]}: kbgate's own answer, no wrapper echoed",
                      target=target, expect_status=status, forwarded=True,
                      expect_body_lacks=ERROR_WRAPPER if status == [400] else WRAPPER))
    for slug, target in [
        ("search", SEARCH),
        ("search-second-page", SEARCH.replace("limit=50", "limit=2") + "&start=2"),
        ("content-search", "/wiki/rest/api/content/search?cql=type%3Dpage&limit=5"),
        ("content-list", "/wiki/rest/api/content?spaceKey=KB&type=page&limit=5"),
        ("jsm-search", JSM),
        ("v2-pages", "/wiki/api/v2/pages?limit=5"),
        ("children", "/wiki/rest/api/content/100001/child/page?limit=3"),
    ]:
        c.append(case("R11", f"no-echo-{slug}",
                      f"{target[:60]}: no cqlQuery and no trace of the CQL wrapper, in links either",
                      target=target, expect_status=[200], forwarded=True, expect_body_lacks=WRAPPER))
    # R11: links never name Confluence's own address.
    for slug, target, bug in [
        ("search", SEARCH, True),
        ("content-with-space-and-history", f"{SHARED}?expand=space,history", True),
        ("content-search", "/wiki/rest/api/content/search?cql=type%3Dpage&limit=5", True),
        ("children", "/wiki/rest/api/content/100001/child/page?limit=3", True),
        ("content-plain", SHARED, True),
        ("spaces", "/wiki/rest/api/space", False),
        ("v2-pages", "/wiki/api/v2/pages?limit=5", False),
        ("jsm-search", JSM, False),
        ("attachments", f"{SHARED}/child/attachment", False),
    ]:
        # Regression: nested `_links.self` of space/user objects named Confluence (fixed).
        extra = {}
        c.append(case("R11", f"no-upstream-address-{slug}",
                      f"{target[:60]}: no link names Confluence's own address",
                      target=target, expect_status=[200], forwarded=True,
                      expect_body_lacks=["{upstream}"], **extra))
    # R12: CQL and query injection (a few; cql_injection.rs walks all pages of many more).
    for slug, cql in [
        ("close-and-or-space", "text ~ vpn) OR (space = ENG"),
        ("or-org-label", 'text ~ vpn) OR label = "org-globex" OR (type = page'),
        ("escaped-quote", 'title ~ "x\\" OR space = ENG OR title ~ \\"y"'),
        ("order-by-injection", "type = page ORDER BY title) OR (space = ENG"),
        ("trailing-backslash", "title ~ \"x\\"),
        ("unicode-quotes", "title ~ \u201cx\u201d OR space = ENG"),
    ]:
        c.append(case("R12", f"cql-{slug}", f"cql {cql!r}: refused or answered within alice's articles",
                      target=f"/wiki/rest/api/search?cql={q(cql)}&limit=50", expect_status=[200, 400],
                      forwarded=True, expect_body_lacks=WRAPPER))
    c += [
        case("R12", "cqlcontext", "cqlcontext naming another space: refused",
             target=SEARCH + "&cqlcontext=" + q('{"spaceKey":"ENG"}'), expect_status=[400],
             forwarded=False),
        case("R12", "two-cql-parameters", "cql twice: refused, never merged",
             target=SEARCH + "&cql=space%3DENG", expect_status=[400], forwarded=False),
        case("R12", "jsm-query-injection", "a JSM query with CQL-looking text: answered within alice's articles",
             target="/rest/servicedeskapi/knowledgebase/article?query=" + q('vpn" OR label = "org-globex'),
             expect_status=[200, 400], forwarded=True, expect_body_lacks=WRAPPER),
        case("R12", "site-search-injection", "site search words that look like CQL stay words",
             target="/search?q=" + q('vpn") OR (space = ENG'), expect_status=[200], forwarded=True,
             expect_body_lacks=["org-globex", "org-initech", "kb-internal"]),
        case("R12", "site-search-script", "site search words holding a script tag are escaped",
             target="/search?q=" + q("<script>alert(1)</script>"), expect_status=[200],
             forwarded=True, expect_body_lacks=["<script>alert(1)"]),
        case("R12", "site-search-cql-parameter-ignored",
             "a cql= parameter on the site search is ignored and never reaches upstream",
             target="/search?q=vpn&cql=space%3DZZENG", expect_status=[200], forwarded=True,
             upstream_target_lacks=["zzeng"]),
    ]
    # R14: bodies rendered by kbgate, for readers who may not see everything they reference.
    for who, target, title in [
        ("bob", "/wiki/rest/api/content/100025?expand=body.storage", "a shared page naming an acme page by title"),
        ("bob", "/articles/100025", "the same page on the KB site"),
        ("carol", "/articles/100001", "the KB home (children macro) on the site, for initech"),
        ("dave", "/articles/100001", "the KB home for a customer without organization"),
        ("bob", "/rest/servicedeskapi/knowledgebase/article?query=" + q("Billing"), "JSM search excerpts for bob"),
    ]:
        c.append(case("R14", f"rendered-{target.split('?')[0].strip('/').replace('/', '-')}-for-{who}",
                      f"{title}: nothing of what {who} may not see",
                      identity=who, target=target, expect_status=[200], forwarded=True))
    return c


def site_pages():
    c = []
    for slug, target, status, extra in [
        ("home-with-expand", "/?expand=body.view", [200], {"upstream_target_lacks": ["body.view"]}),
        ("home-with-rd", "/?rd=%2F%2Fevil.com", [200], {"expect_body_lacks": ["evil.com"]}),
        ("search-negative-start", "/search?q=vpn&start=-1", [200, 400], {}),
        ("search-huge-start", "/search?q=vpn&start=99999999999999999999", [200, 400], {}),
        ("search-nul", "/search?q=%00", [200, 400], {}),
        ("search-long-words", "/search?q={repeat:5000:a%20}", [200, 400, 414, 431], {}),
        ("search-two-q", "/search?q=vpn&q=invoice", [200, 400], {}),
        ("article-with-rendered-expand", "/articles/100004?expand=body.view", [200],
         {"upstream_target_lacks": ["body.view"]}),
        ("article-with-historical-version", "/articles/100004?version=1&status=historical", [200],
         {"upstream_target_lacks": ["historical", "version=1"]}),
        ("by-title-with-path-in-file", "/articles/by-title?space=KB&title=FAQ&file=..%2F..%2Fetc%2Fpasswd",
         [302, 404], {"expect_header_lacks": {"location": "etc/passwd"}}),
        ("by-title-other-space", "/articles/by-title?space=ENG&title=Engineering", [404], {}),
    ]:
        c.append(case("R13" if "expand" in slug else "R15" if "version" in slug else "R12",
                      f"site-{slug}", f"{target[:70]} on the KB site: {status}, nothing hidden",
                      target=target, expect_status=status, forwarded=True, **extra))
    return c


def filter_cases():
    return (negotiation() + conditionals() + parameters() + side_doors() + batches_and_hidden()
            + echoes() + site_pages())
