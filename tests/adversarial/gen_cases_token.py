"""Token cases, threats.md §1.1 rows J1–J12: crafted bearer tokens sent to a search every
customer may run. A refusal is 401 with a Bearer challenge and no request upstream; the few
accepted variants (positive controls, case-insensitive scheme and `typ`) must answer as the
token's own customer, which the leak oracle checks."""

from gen_common import REFUSED, SEARCH, case

OK = {"expect_status": [200], "forwarded": True}


def refused(row, slug, title, token=None, **extra):
    fields = dict(REFUSED)
    fields["target"] = SEARCH
    if token is not None:
        fields["token"] = token
    fields.update(extra)
    return case(row, slug, title, **fields)


def header_auth(row, slug, title, value, identity="alice", status=(401,), **extra):
    """A case that writes its own Authorization header(s)."""
    fields = {
        "identity": identity,
        "credential": False,
        "target": SEARCH,
        "headers": [["Authorization", value]] if isinstance(value, str) else value,
        "expect_status": list(status),
        "forwarded": False,
    }
    fields.update(extra)
    return case(row, slug, title, **fields)


KID = "demo-rsa-1"


def token_cases():
    c = []
    # J1: alg none, every spelling, with and without a signature; alg missing or mangled.
    for spelling, name in [("none", "none"), ("None", "capitalised-none"), ("NONE", "upper-case-none"),
                           ("nOnE", "mixed-case-none")]:
        c.append(refused("J1", f"alg-{name}-empty-signature",
                         f"alg {spelling!r} with an empty signature (CVE-2015-9235)",
                         {"header": {"alg": spelling}, "key": "none"}))
    c += [
        refused("J1", "alg-none-with-a-valid-rs256-signature",
                "alg none over a header+payload that the real key did sign (RS256)",
                {"header": {"alg": "none"}, "key": "demo", "sign_alg": "RS256"}),
        refused("J1", "alg-none-without-kid", "alg none and no kid at all",
                {"header": {"alg": "none", "kid": "@remove"}, "key": "none"}),
        refused("J1", "alg-none-with-a-real-tokens-signature",
                "alg none carrying the signature of a real token of the same customer",
                {"header": {"alg": "none"}, "key": "none", "signature": "from:alice"}),
        refused("J1", "alg-empty-string", "alg \"\" with a valid RS256 signature",
                {"header": {"alg": ""}}),
        refused("J1", "alg-missing", "no alg member, valid RS256 signature",
                {"header": {"alg": "@remove"}}),
        refused("J1", "alg-null", "alg null, valid RS256 signature",
                {"header_json": '{"alg":null,"typ":"JWT","kid":"demo-rsa-1"}'}),
        refused("J1", "alg-lowercase-rs256",
                "alg \"rs256\": algorithm names are case-sensitive (RFC 7518 §3.1)",
                {"header": {"alg": "rs256"}}),
        refused("J1", "alg-rs256-trailing-space", "alg \"RS256 \" with a valid RS256 signature",
                {"header": {"alg": "RS256 "}}),
        refused("J1", "alg-as-array", "alg [\"RS256\"] (an array) with a valid signature",
                {"header_json": '{"alg":["RS256"],"typ":"JWT","kid":"demo-rsa-1"}'}),
        refused("J1", "duplicate-alg-none-then-rs256",
                "header {alg: none, alg: RS256}: a parser keeping the last one verifies RS256",
                {"header_json": '{"alg":"none","alg":"RS256","typ":"JWT","kid":"demo-rsa-1"}'}),
        refused("J1", "duplicate-alg-rs256-then-none",
                "header {alg: RS256, alg: none} with no signature",
                {"header_json": '{"alg":"RS256","alg":"none","typ":"JWT","kid":"demo-rsa-1"}',
                 "key": "none"}),
    ]
    # J2: key confusion.
    for secret, what in [
        ("public-pem", "the public key PEM"),
        ("public-pem-trimmed", "the public key PEM without its final newline"),
        ("public-der", "the public key DER"),
        ("jwk-n", "the JWK modulus n"),
        ("jwks", "the whole served JWKS document"),
        ("empty", "an empty secret"),
        ("text:demo-rsa-1", "the kid as the secret"),
    ]:
        c.append(refused("J2", f"hs256-keyed-with-{secret.replace(':', '-')}",
                         f"HS256 under the RSA kid, HMAC keyed with {what} (RS256→HS256 confusion)",
                         {"header": {"alg": "HS256"}, "key": f"hmac:{secret}"}))
    for alg in ["HS384", "HS512"]:
        c.append(refused("J2", f"{alg.lower()}-keyed-with-public-pem",
                         f"{alg} keyed with the public key PEM under the RSA kid",
                         {"header": {"alg": alg}, "key": "hmac:public-pem", "sign_alg": alg}))
    for alg in ["PS256", "RS384", "RS512"]:
        c.append(refused("J2", f"{alg.lower()}-signed-with-the-real-key",
                         f"{alg} truly signed by the IdP's key: not in the issuer's algorithm list",
                         {"header": {"alg": alg}, "sign_alg": alg}))
    c += [
        refused("J2", "es256-under-the-rsa-kid", "ES256 signed with a P-256 key under the RSA kid",
                {"header": {"alg": "ES256"}, "key": "ec"}),
        refused("J2", "eddsa-header-with-the-rsa-kid",
                "alg EdDSA with the RSA kid (signature bytes from the RSA key)",
                {"header": {"alg": "EdDSA"}}),
        refused("J2", "rs256-signed-by-another-rsa-key",
                "RS256 under the published kid, signed by a key that is not published",
                {"key": "other-rsa"}),
    ]
    # J3: kid injection.
    kids = [
        ("dev-null-hs256-empty-secret", "../../../../../../dev/null",
         {"header": {"alg": "HS256", "kid": "../../../../../../dev/null"}, "key": "hmac:empty"},
         "kid ../../dev/null with HS256 over an empty secret (the file-read trick)"),
        ("dev-null-real-signature", "", {"header": {"kid": "../../../../dev/null"}},
         "kid path traversal on a token the real key signed"),
        ("proc-self-cmdline", "", {"header": {"kid": "/proc/self/cmdline"}},
         "kid /proc/self/cmdline"),
        ("sql-union", "", {"header": {"alg": "HS256", "kid": "' UNION SELECT 'k' --"},
                           "key": "hmac:text:k"},
         "kid SQL injection selecting the HMAC secret 'k', HS256 keyed with it"),
        ("sql-or-true", "", {"header": {"kid": "x' OR '1'='1"}}, "kid x' OR '1'='1"),
        ("metadata-url", "", {"header": {"kid": "http://169.254.169.254/latest/meta-data/"}},
         "kid naming the cloud metadata URL (SSRF)"),
        ("file-url", "", {"header": {"kid": "file:///etc/passwd"}}, "kid file:///etc/passwd"),
        ("command-substitution", "", {"header": {"kid": "$(id)|demo-rsa-1"}},
         "kid with shell metacharacters"),
        ("300-bytes", "", {"header": {"kid": "@repeat:300:k"}},
         "kid of 300 bytes (over the 256-byte cap)"),
        ("number", "", {"header_json": '{"alg":"RS256","typ":"JWT","kid":123}'},
         "kid 123 (a number), real signature"),
        ("null", "", {"header_json": '{"alg":"RS256","typ":"JWT","kid":null}'},
         "kid null, real signature"),
        ("duplicate", "", {"header_json":
                           '{"alg":"RS256","typ":"JWT","kid":"demo-rsa-1","kid":"demo-rsa-1"}'},
         "the real kid twice, real signature (duplicate members are refused)"),
        ("case-variant", "", {"header": {"kid": "DEMO-RSA-1"}},
         "kid DEMO-RSA-1: kids match exactly"),
        ("trailing-nul", "", {"header": {"kid": "demo-rsa-1\u0000"}},
         "kid demo-rsa-1 followed by NUL"),
        ("missing", "", {"header": {"kid": "@remove"}}, "no kid, real signature"),
        ("empty", "", {"header": {"kid": ""}}, "kid \"\", real signature"),
    ]
    for slug, _, token, title in kids:
        c.append(refused("J3", f"kid-{slug}", title, token))
    c.append(refused("J3", "kid-64-kib", "a 64 KiB kid (the header is over kbgate's cap)",
                     {"header": {"kid": "@repeat:65536:k"}},
                     expect_status=[400, 401, 431], expect_header_prefix={}))
    # J4: header-supplied keys.
    jwk = {"kty": "RSA", "e": "AQAB", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1Wl"
                                            "UzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDpre"}
    c += [
        refused("J4", "jku-attacker-url-real-signature",
                "jku naming an attacker's JWKS on a token the real key signed",
                {"header": {"jku": "https://evil.example/jwks.json"}}),
        refused("J4", "jku-attacker-url-attacker-key",
                "jku naming an attacker's JWKS, signed by the attacker's key",
                {"header": {"jku": "https://evil.example/jwks.json", "kid": "evil-1"},
                 "key": "other-rsa"}),
        refused("J4", "x5u-attacker-url", "x5u naming an attacker's certificate",
                {"header": {"x5u": "https://evil.example/cert.pem"}, "key": "other-rsa"}),
        refused("J4", "embedded-jwk-attacker-key", "an embedded jwk (the attacker's), signed by it",
                {"header": {"jwk": jwk}, "key": "other-rsa"}),
        refused("J4", "embedded-jwk-on-a-real-token",
                "an embedded jwk on a token the real key signed: refused, not ignored",
                {"header": {"jwk": jwk}}),
        refused("J4", "embedded-jwk-kty-oct", "an embedded symmetric jwk and HS256 keyed with it",
                {"header": {"alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}},
                 "key": "hmac:text:secret"}),
        refused("J4", "x5c-chain", "an x5c certificate chain in the header",
                {"header": {"x5c": ["MIIBszCCAVmgAwIBAgIUEvil"]}, "key": "other-rsa"}),
    ]
    # J5: time claims.
    times = [
        ("exp-an-hour-ago", {"exp": "@now-3600"}, "exp an hour ago"),
        ("exp-beyond-leeway", {"exp": "@now-120"}, "exp two minutes ago (leeway is 30 s)"),
        ("exp-missing", {"exp": "@remove"}, "no exp"),
        ("exp-string-never", {"exp": "never"}, "exp \"never\""),
        ("exp-numeric-string", {"exp": "@text:@now+600"},
         "exp as a numeric string (CVE-2026-25537: skipped before jsonwebtoken 10.3)"),
        ("exp-float", {"exp": "@now+600.5"}, "exp as a float"),
        ("exp-negative", {"exp": -1}, "exp -1"),
        ("exp-zero", {"exp": 0}, "exp 0"),
        ("exp-bool", {"exp": True}, "exp true"),
        ("nbf-in-an-hour", {"nbf": "@now+3600"}, "nbf an hour from now"),
        ("nbf-numeric-string", {"nbf": "@text:@now+3600"},
         "nbf in an hour as a string (must not be skipped)"),
        ("iat-in-an-hour", {"iat": "@now+3600"}, "iat an hour from now"),
        ("iat-in-115-days", {"iat": "@now+9936000"}, "iat 115 days from now (E1)"),
        ("iat-string", {"iat": "@text:@now"}, "iat as a string"),
        ("iat-float", {"iat": "@now+0.5"}, "iat as a float"),
    ]
    for slug, claims, title in times:
        c.append(refused("J5", slug, title, {"claims": claims}))
    c += [
        refused("J5", "exp-null", "exp null",
                {"claims_json": '{"iss":"{issuer}","aud":"{aud}","sub":"demo|alice",'
                                '"kb_orgs":["acme"],"iat":{now},"exp":null}'}),
        refused("J5", "exp-beyond-u64", "exp 2^64 (over any integer type kbgate reads)",
                {"claims_json": '{"iss":"{issuer}","aud":"{aud}","sub":"demo|alice",'
                                '"kb_orgs":["acme"],"iat":{now},"exp":18446744073709551616}'}),
        refused("J5", "exp-exponent-notation", "exp 9.9e9 (exponent notation)",
                {"claims_json": '{"iss":"{issuer}","aud":"{aud}","sub":"demo|alice",'
                                '"kb_orgs":["acme"],"iat":{now},"exp":9.9e9}'}),
        refused("J5", "exp-year-9999",
                "exp in the year 9999: a token that never expires (catalogue: cap the lifetime)",
                {"claims": {"exp": 253402300799}}),
    ]
    # J6: issuer and audience.
    iss_aud = [
        ("iss-missing", {"iss": "@remove"}, "no iss"),
        ("iss-wrong", {"iss": "https://evil.example/idp"}, "iss of another IdP"),
        ("iss-trailing-slash", {"iss": "{issuer}/"}, "iss with a trailing slash"),
        ("iss-trailing-space", {"iss": "{issuer} "}, "iss with a trailing space"),
        ("iss-dot-segment", {"iss": "{issuer}/../idp"}, "iss naming the same URL through /../"),
        ("iss-jwks-url", {"iss": "{issuer}/.well-known/jwks.json"}, "iss set to the JWKS URL"),
        ("iss-array", {"iss": ["{issuer}"]}, "iss as a one-element array"),
        ("aud-missing", {"aud": "@remove"}, "no aud"),
        ("aud-wrong", {"aud": "another-app"}, "aud of another application"),
        ("aud-empty-array", {"aud": []}, "aud []"),
        ("aud-case-variant", {"aud": "KBGATE-DEMO"}, "aud in other letter case"),
        ("aud-number", {"aud": 1}, "aud 1"),
        ("sub-missing", {"sub": "@remove"}, "no sub"),
        ("sub-empty", {"sub": ""}, "sub \"\""),
        ("sub-number", {"sub": 42}, "sub 42 (a number)"),
    ]
    for slug, claims, title in iss_aud:
        c.append(refused("J6", slug, title, {"claims": claims}))
    c.append(case("J6", "aud-ours-among-others",
                  "aud [another-app, ours]: accepted or refused, but only ever as alice",
                  target=SEARCH, token={"claims": {"aud": ["another-app", "{aud}"]}},
                  expect_status=[200, 401], forwarded=True))
    # J7: token-type confusion.
    c += [
        refused("J7", "typ-dpop", "typ dpop+jwt (a DPoP proof)", {"header": {"typ": "dpop+jwt"}}),
        refused("J7", "typ-logout-token", "a back-channel logout token (typ logout+jwt, events)",
                {"header": {"typ": "logout+jwt"},
                 "claims": {"events": {"http://schemas.openid.net/event/backchannel-logout": {}}}}),
        refused("J7", "logout-token-without-typ",
                "a logout token without typ: its events claim says it is not an access token",
                {"header": {"typ": "@remove"},
                 "claims": {"events": {"http://schemas.openid.net/event/backchannel-logout": {}},
                            "sid": "s1"}}),
        refused("J7", "typ-secevent", "typ secevent+jwt", {"header": {"typ": "secevent+jwt"}}),
        refused("J7", "typ-jws", "typ JWS", {"header": {"typ": "JWS"}}),
        refused("J7", "typ-number", "typ 1 (a number)",
                {"header_json": '{"alg":"RS256","typ":1,"kid":"demo-rsa-1"}'}),
        refused("J7", "token-for-another-client", "aud and azp of another client of the same IdP",
                {"claims": {"aud": "other-client", "azp": "other-client"}}),
        header_auth("J7", "opaque-refresh-token", "an opaque refresh token as a bearer",
                    "Bearer 8xLOxBtZp8.r3fr3sh", expect_header_prefix={"www-authenticate": "Bearer"}),
        case("J7", "typ-at-jwt-accepted", "typ at+jwt (RFC 9068) is an access token: answered as alice",
             target=SEARCH, token={"header": {"typ": "at+jwt"}}, **OK),
        case("J7", "typ-lowercase-jwt-accepted", "typ jwt (any letter case): answered as alice",
             target=SEARCH, token={"header": {"typ": "jwt"}}, **OK),
    ]
    # J8: duplicate and look-alike claims.
    base = '"iss":"{issuer}","aud":"{aud}","sub":"demo|alice","iat":{now},"exp":{now+600}'
    c += [
        refused("J8", "duplicate-org-claim-acme-then-globex",
                "kb_orgs twice: acme then globex (a last-wins parser gives alice globex)",
                {"claims_json": '{' + base + ',"kb_orgs":["acme"],"kb_orgs":["globex"]}'}),
        refused("J8", "duplicate-org-claim-globex-then-acme", "kb_orgs twice: globex then acme",
                {"claims_json": '{' + base + ',"kb_orgs":["globex"],"kb_orgs":["acme"]}'}),
        refused("J8", "duplicate-org-claim-escaped-name",
                "kb_orgs and kb\\u005forgs: the same name once unescaped",
                {"claims_json": '{' + base + ',"kb_orgs":["acme"],"kb\\u005forgs":["globex"]}'}),
        refused("J8", "duplicate-sub", "sub twice",
                {"claims_json": '{' + base + ',"kb_orgs":["acme"],"sub":"demo|bob"}'}),
        refused("J8", "duplicate-exp", "exp twice (the second far in the future)",
                {"claims_json": '{' + base + ',"kb_orgs":["acme"],"exp":9999999999}'}),
        refused("J8", "duplicate-iss", "iss twice (ours, then another)",
                {"claims_json": '{' + base + ',"kb_orgs":["acme"],"iss":"https://evil.example"}'}),
        refused("J8", "org-claim-number", "kb_orgs 1 (a number)", {"claims": {"kb_orgs": 1}}),
        refused("J8", "org-claim-object", "kb_orgs {\"globex\": true}",
                {"claims": {"kb_orgs": {"globex": True}}}),
        case("J8", "look-alike-org-claim-is-ignored",
             "kb_orgs (acme) and a full-width kb＿orgs (globex): only the real claim counts",
             target=SEARCH, token={"claims": {"kb＿orgs": ["globex"]}}, **OK),
    ]
    # J9: crit.
    for slug, header, title in [
        ("crit-unknown-extension", {"crit": ["x-unknown"], "x-unknown": "v"},
         "crit naming an unknown extension that is present"),
        ("crit-b64-absent", {"crit": ["b64"]}, "crit [b64] with the parameter absent"),
        ("crit-empty", {"crit": []}, "crit [] (empty)"),
        ("crit-registered-name", {"crit": ["exp"]}, "crit naming a registered claim"),
    ]:
        c.append(refused("J9", slug, title + " (RFC 7515 §4.1.11), real signature",
                         {"header": header}))
    # J10: huge or malformed tokens and credential extraction.
    c += [
        refused("J10", "one-million-dots", "a token of 1,000,000 dots",
                {"raw": "@repeat:1000000:."}, expect_status=[400, 401, 431],
                expect_header_prefix={}),
        refused("J10", "two-megabyte-payload", "a 2 MB claim set",
                {"claims": {"pad": "@repeat:2000000:A"}}, expect_status=[400, 401, 431],
                expect_header_prefix={}),
        refused("J10", "five-segments-jwe", "a compact JWE (five segments)",
                {"raw": "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y2lwaGVy.dGFn"},
                expect_status=[400, 401]),
        refused("J10", "two-segments", "a header and payload, no signature segment",
                {"raw": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0"}, expect_status=[400, 401]),
        refused("J10", "padded-segments", "header and payload base64url with = padding",
                {"segments": "url-padded"}, expect_status=[400, 401]),
        refused("J10", "standard-base64-segments", "header and payload in standard base64",
                {"segments": "standard"}, expect_status=[400, 401]),
        header_auth("J10", "four-segments", "a valid token plus a fourth segment",
                    "Bearer {token}.x", status=(400, 401)),
        header_auth("J10", "trailing-dot", "a valid token plus a trailing dot",
                    "Bearer {token}.", status=(400, 401)),
        header_auth("J10", "non-base64url-character", "a valid token with ! appended",
                    "Bearer {token}!", status=(400, 401)),
        header_auth("J10", "space-inside", "a valid token followed by a space and more text",
                    "Bearer {token} x", status=(400, 401)),
        header_auth("J10", "bearer-twice", "Bearer Bearer <token>", "Bearer Bearer {token}",
                    status=(400, 401)),
        header_auth("J10", "scheme-only", "Authorization: Bearer (no token)", "Bearer",
                    status=(400, 401)),
        header_auth("J10", "double-space", "two spaces after the scheme", "Bearer  {token}",
                    status=(400, 401)),
        header_auth("J10", "tab-separator", "a tab instead of the space", "Bearer\t{token}",
                    status=(400, 401)),
        header_auth("J10", "basic-scheme", "Basic credentials instead of a bearer token",
                    "Basic YWxpY2U6cGFzc3dvcmQ=", status=(401,)),
        header_auth("J10", "two-authorization-headers-alice-and-bob",
                    "two Authorization headers (alice's, then bob's): ambiguous, refused",
                    [["Authorization", "Bearer {token:alice}"], ["Authorization", "Bearer {token:bob}"]],
                    status=(400, 401)),
        header_auth("J10", "two-identical-authorization-headers",
                    "the same valid Authorization header twice", 
                    [["Authorization", "Bearer {token}"], ["Authorization", "Bearer {token}"]],
                    status=(400, 401)),
        header_auth("J10", "two-tokens-in-one-header", "Bearer <alice>, Bearer <bob> in one header",
                    "Bearer {token:alice}, Bearer {token:bob}", status=(400, 401)),
        header_auth("J10", "lowercase-scheme-is-the-same-scheme",
                    "bearer in lower case (RFC 9110 §11.1: schemes are case-insensitive): answered as alice",
                    "bearer {token}", status=(200,), forwarded=True),
        header_auth("J10", "uppercase-scheme-is-the-same-scheme",
                    "BEARER in upper case: answered as alice", "BEARER {token}", status=(200,),
                    forwarded=True),
        case("J10", "token-in-a-cookie-only", "a valid token in a cookie, no Authorization header",
             identity="none", target=SEARCH, headers=[["Cookie", "access_token={token:alice}"]],
             expect_status=[401], forwarded=False),
        case("J10", "token-in-x-access-token-headers",
             "a valid token in X-Access-Token / X-Forwarded-Access-Token, no Authorization",
             identity="none", target=SEARCH,
             headers=[["X-Access-Token", "{token:alice}"],
                      ["X-Forwarded-Access-Token", "{token:alice}"]],
             expect_status=[401], forwarded=False),
        case("J10", "access-token-in-the-query", "?access_token= on the API is never read",
             identity="none", target=SEARCH + "&access_token={token:alice}",
             expect_status=[400, 401], forwarded=False),
        case("J10", "access-token-in-the-site-query", "?access_token= on the KB site is never read",
             identity="none", target="/search?q=vpn&access_token={token:alice}",
             expect_status=[401], forwarded=False),
        case("J10", "bearer-wins-over-a-foreign-session",
             "alice's bearer token and bob's session cookie: answered as alice or refused, never as bob",
             target=SEARCH, headers=[["Cookie", "__Host-kbgate={session:bob}"]],
             expect_status=[200, 400, 401], forwarded=True),
    ]
    # J11: keys kbgate does not have.
    c += [
        refused("J11", "unknown-kid-unpublished-key",
                "a kid the JWKS does not list, signed by an unpublished key (refetch, then refuse)",
                {"header": {"kid": "sim-rsa-9"}, "key": "other-rsa"}),
        refused("J11", "unknown-kid-real-key", "a kid the JWKS does not list, signed by the real key",
                {"header": {"kid": "rotated-away-1"}}),
    ]
    # J12: signature edge cases.
    for edit, title in [
        ("flip", "one bit of the RS256 signature flipped"),
        ("truncate", "the RS256 signature one byte short"),
        ("zero", "an all-zero RS256 signature of the right length"),
        ("extra", "the RS256 signature with a byte appended"),
        ("empty", "the signature segment empty"),
        ("from:bob", "bob's valid signature on alice's claims"),
        ("text:AAAA", "a four-character signature"),
    ]:
        c.append(refused("J12", f"signature-{edit.replace(':', '-').lower()}", title,
                         {"signature": edit}, **({"expect_status": [400, 401]}
                                                 if edit == "empty" else {})))
    c += [
        refused("J12", "signature-standard-base64", "the RS256 signature in standard base64",
                {"signature": "standard"}, expect_status=[400, 401]),
        refused("J12", "signature-padded", "the RS256 signature base64url with = padding",
                {"signature": "padded"}, expect_status=[400, 401]),
        refused("J12", "payload-swapped-after-signing",
                "alice's real signature over a payload that now says kb_orgs globex",
                {"claims": {"kb_orgs": ["globex"]}, "signature": "from:alice"}),
        refused("J12", "es256-psychic-signature", "ES256 with r = s = 0 (CVE-2022-21449)",
                {"header": {"alg": "ES256"}, "key": "ec", "signature": "zero"}),
        refused("J12", "es256-der-signature", "ES256 with a DER-encoded signature instead of r‖s",
                {"header": {"alg": "ES256"}, "key": "ec", "signature": "der"}),
        refused("J12", "es256-high-s", "ES256 with the high-S twin of a valid signature",
                {"header": {"alg": "ES256"}, "key": "ec", "signature": "high-s"}),
        case("J12", "unedited-recipe-is-accepted",
             "control: the recipe with no edit is a valid token, so every refusal above is its edit's",
             target=SEARCH, token={}, **OK),
    ]
    return c
