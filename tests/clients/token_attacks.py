"""Attacks kbgate's bearer-token verification with tokens minted by an independent JOSE
library, PyJWT (PyPI, with `cryptography`), plus hand-built JOSE where PyJWT rightly refuses to
produce the attack (alg none spellings, HMAC keyed with a public key, duplicate members).

Every case of threats.md §1.1 that a client can express (J1–J10, J12; J11 is the server's key
set and is covered by tests/kbgate/keys.rs) is sent to a shared page and must get 401; one
valid token minted the same way is the control and must get 200.

Usage: python3 token_attacks.py KBGATE_URL ISSUER [AUDIENCE] [KEYS_DIR]
  e.g. python3 token_attacks.py http://127.0.0.1:8080 http://127.0.0.1:9090/idp
"""

import base64
import hashlib
import hmac
import http.client
import json
import sys
import time
import urllib.parse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

KID = "demo-rsa-1"  # src/sim/idp.rs DEMO_KID
TARGET = "/wiki/rest/api/content/100001"  # a shared page: any valid customer gets 200


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load(path):
    with open(path, "rb") as f:
        return f.read()


class Minter:
    def __init__(self, issuer, audience, keys_dir):
        self.iss, self.aud = issuer, audience
        self.rsa_private = serialization.load_pem_private_key(load(f"{keys_dir}/demo-rsa.pem"), None)
        self.rsa_public_pem = load(f"{keys_dir}/demo-rsa.pub.pem")
        self.other_rsa = serialization.load_pem_private_key(load(f"{keys_dir}/other-rsa.pem"), None)
        self.ec_private = serialization.load_pem_private_key(load(f"{keys_dir}/demo-ec.pem"), None)
        self.ec_public_pem = load(f"{keys_dir}/demo-ec.pub.pem")

    def claims(self, **changes):
        now = int(time.time())
        c = {"iss": self.iss, "aud": self.aud, "sub": "demo|alice", "email": "alice@acme.example",
             "kb_orgs": ["acme"], "iat": now, "nbf": now - 5, "exp": now + 600}
        for k, v in changes.items():
            if v is DROP:
                c.pop(k, None)
            else:
                c[k] = v
        return c

    def rs256(self, claims=None, key=None, **headers):
        """A properly signed RS256 token (PyJWT); `headers` are added to the JOSE header."""
        h = {"kid": KID}
        h.update(headers)
        h = {k: v for k, v in h.items() if v is not DROP}
        return jwt.encode(claims or self.claims(), key or self.rsa_private, algorithm="RS256", headers=h)

    def signed_raw(self, header_json, payload_json, alg="RS256"):
        """Signs hand-written header and payload JSON text (duplicate members survive)."""
        signing_input = f"{b64(header_json)}.{b64(payload_json)}".encode()
        algo = jwt.get_algorithm_by_name(alg)
        sig = algo.sign(signing_input, algo.prepare_key(self.rsa_private))
        return f"{signing_input.decode()}.{b64(sig)}"

    def hs256_raw(self, header, claims, secret):
        """HS256 keyed by anything, even a public key (PyJWT refuses that, rightly)."""
        signing_input = f"{b64(json.dumps(header))}.{b64(json.dumps(claims))}"
        sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(sig)}"


DROP = object()


def attacks(m):
    """(name, list of (header, value)) pairs; each must get 401."""
    good = m.claims()
    valid = m.rs256()
    head, payload, sig = valid.split(".")
    cases = []

    def bearer(name, token):
        cases.append((name, [("Authorization", f"Bearer {token}")]))

    # J1: alg none in every spelling, with and without a signature.
    for spelling in ["none", "None", "NONE", "nOnE"]:
        unsigned = f"{b64(json.dumps({'alg': spelling, 'typ': 'JWT', 'kid': KID}))}.{payload}"
        bearer(f"J1 alg={spelling}, empty signature", unsigned + ".")
        bearer(f"J1 alg={spelling}, signature kept", f"{unsigned}.{sig}")
    bearer("J1 PyJWT algorithm=none", jwt.encode(good, None, algorithm="none", headers={"kid": KID}))

    # J2: key confusion and algorithm substitution.
    hs = {"alg": "HS256", "typ": "JWT", "kid": KID}
    der = m.rsa_private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    n = m.rsa_private.public_key().public_numbers().n
    bearer("J2 HS256 keyed with the RSA public key PEM", m.hs256_raw(hs, good, m.rsa_public_pem))
    bearer("J2 HS256 keyed with the RSA public key DER", m.hs256_raw(hs, good, der))
    bearer("J2 HS256 keyed with the JWK n", m.hs256_raw(hs, good, b64(n.to_bytes(256, "big")).encode()))
    bearer("J2 HS256 keyed with the EC public key PEM", m.hs256_raw(hs, good, m.ec_public_pem))
    bearer("J2 ES256 signed by an unpublished EC key under the RSA kid",
           jwt.encode(good, m.ec_private, algorithm="ES256", headers={"kid": KID}))
    bearer("J2 PS256 with the right RSA key (alg not allowed)",
           jwt.encode(good, m.rsa_private, algorithm="PS256", headers={"kid": KID}))
    bearer("J2 RS512 with the right RSA key (alg not allowed)",
           jwt.encode(good, m.rsa_private, algorithm="RS512", headers={"kid": KID}))
    bearer("J2 EdDSA header with the RSA kid",
           jwt.encode(good, ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": KID}))
    bearer("J2 RS256 signed by another RSA key", m.rs256(key=m.other_rsa))

    # J3: kid injection.
    for kid in ["../../../../dev/null", "/proc/self/cmdline", "' UNION SELECT 'k' --",
                "http://169.254.169.254/latest/meta-data/", "demo-rsa-1\u0000", "DEMO-RSA-1", "k" * 300]:
        bearer(f"J3 kid {kid[:30]!r}", m.rs256(kid=kid))
    # PyJWT refuses a non-string kid, rightly: these two are signed by hand.
    bearer("J3 kid 123 (number)", m.signed_raw('{"alg":"RS256","kid":123}', json.dumps(good)))
    bearer("J3 kid null", m.signed_raw('{"alg":"RS256","kid":null}', json.dumps(good)))
    bearer("J3 no kid", m.rs256(kid=DROP))
    bearer("J3 duplicate kid", m.signed_raw(
        f'{{"alg":"RS256","kid":"nope","kid":"{KID}"}}', json.dumps(good)))

    # J4: header-supplied keys, even with an otherwise valid token.
    attacker = serialization.load_pem_private_key(load_other_pem(m), None)
    attacker_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    bearer("J4 jku (valid signature)", m.rs256(jku="https://evil.example/jwks.json"))
    bearer("J4 x5u (valid signature)", m.rs256(x5u="https://evil.example/cert.pem"))
    bearer("J4 embedded jwk (valid signature)", m.rs256(jwk=attacker_jwk))
    bearer("J4 x5c (valid signature)", m.rs256(x5c=["MIIBszCCAVmgAwIBAgIU"]))
    bearer("J4 embedded attacker jwk, signed by the attacker",
           m.rs256(key=attacker, jwk=attacker_jwk, kid=DROP))

    # J5: time claims.
    now = int(time.time())
    for name, change in [
        ("exp an hour ago", {"exp": now - 3600}),
        ("exp missing", {"exp": DROP}),
        ("nbf in an hour", {"nbf": now + 3600}),
        ("iat in an hour", {"iat": now + 3600}),
        ("exp as a string", {"exp": "never"}),
        ("exp as a float", {"exp": now + 600.5}),
        ("exp negative", {"exp": -1}),
        ("nbf as a string", {"nbf": str(now + 3600)}),
    ]:
        bearer(f"J5 {name}", m.rs256(m.claims(**change)))

    # J6: issuer and audience.
    for name, change in [
        ("iss missing", {"iss": DROP}),
        ("iss wrong", {"iss": "https://evil.example"}),
        ("iss with a trailing slash", {"iss": m.iss + "/"}),
        ("iss in upper case", {"iss": m.iss.upper()}),
        ("aud missing", {"aud": DROP}),
        ("aud wrong", {"aud": "another-client"}),
        ("aud empty array", {"aud": []}),
        ("aud array of others", {"aud": ["a", "b"]}),
        ("sub missing", {"sub": DROP}),
        ("sub empty", {"sub": ""}),
    ]:
        bearer(f"J6 {name}", m.rs256(m.claims(**change)))

    # J7: token-type confusion.
    bearer("J7 typ dpop+jwt", m.rs256(typ="dpop+jwt"))
    bearer("J7 typ logout+jwt", m.rs256(typ="logout+jwt"))
    bearer("J7 typ secevent+jwt", m.rs256(typ="secevent+jwt"))

    # J8: duplicate claims (hand-written JSON, signed properly).
    body = json.dumps(good)[1:-1]
    header = f'{{"alg":"RS256","typ":"JWT","kid":"{KID}"}}'
    bearer("J8 duplicate kb_orgs", m.signed_raw(header, f'{{{body},"kb_orgs":["globex"]}}'))
    bearer("J8 duplicate sub", m.signed_raw(header, f'{{{body},"sub":"demo|bob"}}'))
    bearer("J8 duplicate exp", m.signed_raw(header, f'{{{body},"exp":{now + 99999}}}'))
    bearer("J8 duplicate iss", m.signed_raw(header, f'{{{body},"iss":"https://evil.example"}}'))
    bearer("J8 duplicate alg in the header",
           m.signed_raw(f'{{"alg":"none","alg":"RS256","kid":"{KID}"}}', json.dumps(good)))

    # J9: crit.
    bearer("J9 crit unknown extension", m.rs256(crit=["x-unknown"], **{"x-unknown": "v"}))
    bearer("J9 crit b64 absent", m.rs256(crit=["b64"]))
    bearer("J9 crit empty", m.rs256(crit=[]))

    # J10: malformed and oversized credentials.
    bearer("J10 token over 8 KiB", m.rs256(m.claims(pad="x" * 9000)))
    bearer("J10 five parts (JWE shape)", f"{valid}.AAAA.BBBB")
    bearer("J10 four parts", f"{valid}.AAAA")
    bearer("J10 trailing dot", valid + ".")
    bearer("J10 base64 padding", f"{head}=.{payload}.{sig}")
    bearer("J10 non-base64url characters", f"{head}.{payload}.{sig[:-4]}+/+/")
    bearer("J10 whitespace inside", f"{head}. {payload}.{sig}")
    bearer("J10 many dots", "." * 4000)
    bearer("J10 tampered payload (kb_orgs globex)",
           f"{head}.{b64(json.dumps(m.claims(kb_orgs=['globex'])))}.{sig}")
    cases.append(("J10 Bearer twice", [("Authorization", f"Bearer Bearer {valid}")]))
    cases.append(("J10 two Authorization headers",
                  [("Authorization", f"Bearer {valid}"), ("Authorization", f"Bearer {valid}")]))
    cases.append(("J10 Basic scheme", [("Authorization", "Basic " + base64.b64encode(b"alice:pw").decode())]))
    cases.append(("J10 token in the query only", [], f"?access_token={urllib.parse.quote(valid)}"))
    cases.append(("J10 token in a cookie only", [("Cookie", f"access_token={valid}")]))

    # J12: signature edge cases.
    es_header = b64(json.dumps({"alg": "ES256", "kid": KID}))
    bearer("J12 ES256 psychic signature r=s=0", f"{es_header}.{payload}.{b64(bytes(64))}")
    raw_sig = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    bearer("J12 RSA signature one byte short", f"{head}.{payload}.{b64(raw_sig[1:])}")
    bearer("J12 RSA signature with a leading zero byte", f"{head}.{payload}.{b64(bytes(1) + raw_sig)}")
    bearer("J12 trailing bytes after the signature", f"{head}.{payload}.{b64(raw_sig + b'x')}")
    bearer("J12 all-zero RSA signature", f"{head}.{payload}.{b64(bytes(256))}")
    bearer("J12 empty signature", f"{head}.{payload}.")
    return valid, cases


def load_other_pem(m):
    """The attacker's key: the never-published 'other' RSA key, as PEM."""
    return m.other_rsa.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def get(base, headers, query=""):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.putrequest("GET", TARGET + query)
    for k, v in headers:
        conn.putheader(k, v)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    status, www = resp.status, resp.getheader("WWW-Authenticate")
    conn.close()
    return status, www, body


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    base, issuer = sys.argv[1], sys.argv[2]
    audience = sys.argv[3] if len(sys.argv) > 3 else "kbgate-demo"
    keys_dir = sys.argv[4] if len(sys.argv) > 4 else "testdata/keys"
    m = Minter(issuer, audience, keys_dir)
    valid, cases = attacks(m)
    status, _, body = get(base, [("Authorization", f"Bearer {valid}")])
    assert status == 200, f"control token: {status} {body[:200]!r}"
    failures = []
    for case in cases:
        name, headers = case[0], case[1]
        query = case[2] if len(case) > 2 else ""
        status, www, body = get(base, headers, query)
        if status != 401:
            failures.append(f"{name}: {status} {body[:120]!r}")
        elif b"CANARY" in body.upper() or (www or "").find("Bearer") != 0:
            failures.append(f"{name}: 401 without a bare Bearer challenge or with content")
    groups = sorted({name.split()[0] for name, *_ in cases}, key=lambda g: int(g[1:]))
    if failures:
        print("token attacks FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"token attacks (PyJWT {jwt.__version__}): {len(cases)}/{len(cases)} refused with 401 "
          f"({', '.join(groups)}), control token 200")


if __name__ == "__main__":
    main()
