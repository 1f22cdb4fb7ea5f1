"""Schemathesis hooks for walletd (.ci/schemathesis.sh): authenticate every generated request.

- Operations whose security is walletd's MAC scheme are signed as walletd verifies them
  (crates/wallet-client/src/mac.rs, shared/client-compatibility.md §1):

      Authorization: MAC id="…", ts="…", nonce="…", mac="…"[, ext="body_hash=…"]
      mac = base64(HMAC-SHA256(secret, ts\\nnonce\\nMETHOD\\nuri\\nhost\\nport\\next\\n))

  The signature is made by a `requests` auth object, which `requests` calls on the prepared
  request: after the body is serialized and the query string encoded, so it signs the bytes and
  the request target that go on the wire. A new nonce every time, so a request Schemathesis sends
  again (to confirm or shrink a failure) is signed again rather than refused as a replay.
- Operations whose security is the admin bearer scheme get `Authorization: Bearer <admin token>`.
- Operations with no security (`/healthz`, `/publickey`, …) are sent as generated.
- Negative tests that leave out the security parameter on purpose are left unsigned (Schemathesis
  does not call an auth provider for them).

Credentials from the environment: WALLET_MAC_ID, WALLET_MAC_SECRET, WALLETD_ADMIN_TOKEN.
WALLETD_FIXTURES (optional): the JSON file `--fixtures` printed (transactions in each state,
payments, an active allowance, the demo's wallets, made before the run); path parameters that name
one of these are drawn from it as well as generated, so that tests also reach objects that exist.

`python3 .ci/schemathesis_hooks.py --curl METHOD URL [JSON_BODY]` prints a signed curl command
for one request (to reproduce a failure by hand). `--self-test` checks the signer against the MAC
test vectors (shared/vectors/mac.json beside the repository, or WALLET_MAC_VECTORS; the same
vectors are kept below for a checkout without shared/), and, where `requests` is installed, the
auth object on prepared requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time

# ---------------------------------------------------------------------------------------------
# The signature (no third-party imports: the self-test runs on a bare python3).

_PHP_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def php_urlencode(s: str) -> str:
    """PHP's `urlencode` (RFC 1738): alphanumerics and `-_.` kept, space as `+`, the rest `%XX`."""
    out = []
    for b in s.encode("utf-8"):
        if b in _PHP_UNRESERVED:
            out.append(chr(b))
        elif b == 0x20:
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def body_hash(body: bytes) -> str:
    """base64 of the SHA-256 of the body: the `body_hash` ext parameter."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def ext_for(body: bytes) -> str:
    """`http_build_query(['body_hash' => …])` when there is a body, else the empty string."""
    return "body_hash=" + php_urlencode(body_hash(body)) if body else ""


def normalized(ts: str, nonce: str, method: str, uri: str, host: str, port: int, ext: str) -> str:
    return f"{ts}\n{nonce}\n{method.upper()}\n{uri}\n{host}\n{port}\n{ext}\n"


def mac_of(secret: str, ts: str, nonce: str, method: str, uri: str, host: str, port: int, ext: str) -> str:
    message = normalized(ts, nonce, method, uri, host, port, ext).encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def render_header(mac_id: str, ts: str, nonce: str, mac: str, ext: str) -> str:
    header = f'MAC id="{mac_id}", ts="{ts}", nonce="{nonce}", mac="{mac}"'
    if ext:
        header += f', ext="{ext}"'
    return header


def host_and_port(host_header: str, default_port: int) -> tuple[str, int]:
    """Host and port as walletd reads them from `Host` (auth.rs `host_and_port`)."""
    if host_header.startswith("["):
        end = host_header.index("]")
        name, rest = host_header[: end + 1], host_header[end + 1 :]
        port = rest[1:] if rest.startswith(":") else None
    elif ":" in host_header:
        name, port = host_header.rsplit(":", 1)
    else:
        name, port = host_header, None
    return name, int(port) if port else default_port


# The nonce: 32 characters of the PHP client's alphabet (printable ASCII but `"` and `\`, space and
# `,` included, which walletd's header parser must take), led by a per-process counter so that no
# two requests of a run share one even by chance.
_NONCE_ALPHABET = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\')
_nonce_lock = threading.Lock()
_nonce_count = 0
_nonce_run = secrets.token_hex(4)


def new_nonce() -> str:
    global _nonce_count
    with _nonce_lock:
        _nonce_count += 1
        count = _nonce_count
    prefix = f"{_nonce_run}{count:010d}"
    return prefix + "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(32 - len(prefix)))


# ---------------------------------------------------------------------------------------------
# `requests` auth objects (need `requests`, which Schemathesis brings).


def _wire_target(path_url: str) -> str:
    """The request target urllib3 writes for `path_url` (it percent-encodes what is invalid)."""
    try:
        from urllib3.util.url import _encode_target
    except ImportError:  # pragma: no cover - another urllib3
        return path_url
    return _encode_target(path_url)


class MacAuth:
    """Signs a `requests.PreparedRequest` in place (usable as `requests`' `auth=`)."""

    def __init__(self, mac_id: str, secret: str, *, clock=time.time, nonces=new_nonce):
        self.mac_id = mac_id
        self.secret = secret
        self.clock = clock
        self.nonces = nonces

    def __call__(self, request):
        from urllib.parse import urlsplit

        body = request.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            # Send the bytes that were hashed; `requests` recomputes Content-Length after auth.
            body = body.encode("utf-8")
            request.body = body
        elif not isinstance(body, (bytes, bytearray)):
            raise TypeError(f"cannot sign a streamed body ({type(body).__name__})")
        url = urlsplit(request.url)
        host_header = request.headers.get("Host") or url.netloc.rsplit("@", 1)[-1]
        default_port = 443 if url.scheme == "https" else 80
        host, port = host_and_port(host_header, default_port)
        uri = _wire_target(request.path_url)
        ts = str(int(self.clock()))
        nonce = self.nonces()
        ext = ext_for(bytes(body))
        mac = mac_of(self.secret, ts, nonce, request.method, uri, host, port, ext)
        request.headers["Authorization"] = render_header(self.mac_id, ts, nonce, mac, ext)
        return request


class BearerAuth:
    def __init__(self, token: str):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


# ---------------------------------------------------------------------------------------------
# Which scheme an operation asks for, from its OpenAPI security requirements.


def _scheme_kind(name: str, scheme: dict) -> str | None:
    """`mac`, `admin` or None (a scheme this file does not fill, e.g. the metrics token)."""
    kind = (scheme.get("type") or "").lower()
    http_scheme = (scheme.get("scheme") or "").lower()
    text = f"{name} {scheme.get('description', '')}".lower()
    if http_scheme == "mac" or (kind == "apikey" and "mac" in text) or "mac" in name.lower():
        return "mac"
    if kind == "http" and http_scheme == "bearer" and "admin" in text:
        return "admin"
    return None


def security_kind(operation) -> str | None:
    raw = operation.schema.raw_schema
    definition = operation.definition.raw
    requirements = definition.get("security", raw.get("security")) or []
    schemes = (raw.get("components") or {}).get("securitySchemes") or {}
    kinds = []
    for requirement in requirements:
        if not requirement:
            # `{}`: anonymous access allowed; walletd's MAC still applies if another one is listed.
            continue
        for name in requirement:
            kinds.append(_scheme_kind(name, schemes.get(name) or {}))
    for kind in ("mac", "admin"):
        if kind in kinds:
            return kind
    return None


# ---------------------------------------------------------------------------------------------
# Registration with Schemathesis (only when it loads this file through SCHEMATHESIS_HOOKS).


def _register() -> None:
    import schemathesis

    mac_id = os.environ.get("WALLET_MAC_ID", "")
    secret = os.environ.get("WALLET_MAC_SECRET", "")
    admin_token = os.environ.get("WALLETD_ADMIN_TOKEN", "")
    if not mac_id or not secret:
        raise RuntimeError("WALLET_MAC_ID and WALLET_MAC_SECRET must be set (walletd demo --json)")

    def is_mac(ctx) -> bool:
        return security_kind(ctx.operation) == "mac"

    def is_admin(ctx) -> bool:
        return security_kind(ctx.operation) == "admin"

    schemathesis.auth.set_from_requests(MacAuth(mac_id, secret)).apply_to(is_mac)
    if admin_token:
        schemathesis.auth.set_from_requests(BearerAuth(admin_token)).apply_to(is_admin)

    @schemathesis.check
    def mac_signature_accepted(ctx, response, case):
        """A request this file signed must not be refused as unauthenticated: a 401 to it means
        the signer and walletd disagree (or the nonce was replayed), and every other result of
        the run would be about the refusal rather than the operation."""
        sent = response.request.headers.get("Authorization") or ""
        if response.status_code == 401 and sent.startswith("MAC ") and f'id="{mac_id}"' in sent:
            raise AssertionError(f"walletd refused a request signed with the demo client's MAC: {response.text[:300]}")
        if response.status_code == 401 and admin_token and sent == f"Bearer {admin_token}":
            raise AssertionError(f"walletd refused the admin token: {response.text[:300]}")

    fixtures_path = os.environ.get("WALLETD_FIXTURES", "")
    if fixtures_path:
        with open(fixtures_path, encoding="utf-8") as f:
            fixtures = json.load(f)
        from hypothesis import strategies as st

        @schemathesis.hook
        def flatmap_path_parameters(ctx, path_parameters):
            # Each path parameter that names a transaction, payment, allowance or wallet either
            # keeps its generated value or takes the id of one that exists (see `make_fixtures`).
            if not isinstance(path_parameters, dict):
                return st.just(path_parameters)
            choices = {}
            for name, value in path_parameters.items():
                existing = fixtures.get(_fixture_kind(ctx.operation.path, name) or "", [])
                if existing:
                    choices[name] = st.sampled_from([value, *existing])
            if not choices:
                return st.just(path_parameters)
            return st.fixed_dictionaries(choices).map(lambda picked: {**path_parameters, **picked})


def _fixture_kind(path: str, name: str) -> str | None:
    """Which list of `make_fixtures` a path parameter takes its values from."""
    if name == "key":
        return "transaction_keys"
    if name == "wallet":
        return "wallets"
    if name == "id":
        for prefix, kind in (
            ("/rest/v1/payment/", "payment_ids"),
            ("/rest/v1/allowance/", "allowance_ids"),
            ("/rest/v1/wallet/", "wallets"),
        ):
            if path.startswith(prefix):
                return kind
    return None


# ---------------------------------------------------------------------------------------------
# Fixtures: a few real objects for the generated requests to find.


def make_fixtures(base_url: str, demo: dict) -> dict:
    """Creates, with the demo client, transactions in each state (new, reserved, confirmed),
    payments and an active allowance, and returns their ids with the demo's wallets."""
    import requests

    auth = MacAuth(demo["client"]["mac_id"], demo["client"]["mac_secret"])
    holder = demo["users"][0]

    def call(method: str, path: str, body=None) -> dict:
        answer = requests.request(method, base_url + path, json=body, auth=auth, timeout=10)
        if answer.status_code != 200:
            raise SystemExit(f"fixtures: {method} {path} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json()

    payment = {"description": "schemathesis", "price_decimal": "1.00", "currency": "EUR"}
    keys, payment_ids = [], []

    def transaction(reserve: bool, confirm: bool) -> None:
        t = call("POST", "/rest/v1/transaction", {"payments": [payment]})
        key = t["transaction_key"]
        keys.append(key)
        payment_ids.extend(p["id"] for p in t.get("payments", []))
        if reserve:
            call("PUT", f"/rest/v1/transaction/{key}/reserve/{holder['wallet_id']}", {"pin": holder["pin"]})
        if confirm:
            call("PUT", f"/rest/v1/transaction/{key}/confirm")

    for _ in range(2):
        transaction(reserve=False, confirm=False)
    transaction(reserve=True, confirm=False)
    transaction(reserve=True, confirm=True)
    for _ in range(2):
        p = call("POST", "/rest/v1/payment", payment)
        payment_ids.append(p["id"])
    allowance = call(
        "POST",
        "/rest/v1/allowance",
        {"description": "schemathesis", "currency": "EUR", "max_price": 1500, "valid_for": 720},
    )
    keys.append(allowance["transaction_key"])
    call("PUT", f"/rest/v1/transaction/{allowance['transaction_key']}/reserve/{holder['wallet_id']}", {"pin": holder["pin"]})
    call("PUT", f"/rest/v1/transaction/{allowance['transaction_key']}/confirm")
    wallets = [demo["project_wallet_id"], *(u["wallet_id"] for u in demo["users"])]
    return {
        "transaction_keys": keys,
        "payment_ids": payment_ids,
        "allowance_ids": [allowance["id"]],
        "wallets": wallets,
    }


def signed_curl(method: str, url: str, body: str | None = None) -> str:
    """A curl command for one request signed now with WALLET_MAC_ID / WALLET_MAC_SECRET (valid for
    the server's 60 s window, once: the nonce is spent by the first try)."""
    import shlex
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = host_and_port(parts.netloc, 443 if parts.scheme == "https" else 80)
    uri = parts.path + (f"?{parts.query}" if parts.query else "")
    data = (body or "").encode("utf-8")
    ts, nonce, ext = str(int(time.time())), new_nonce(), ext_for(data)
    mac = mac_of(os.environ["WALLET_MAC_SECRET"], ts, nonce, method, uri, host, port, ext)
    header = render_header(os.environ["WALLET_MAC_ID"], ts, nonce, mac, ext)
    command = ["curl", "-sS", "-X", method.upper(), "-H", f"Authorization: {header}"]
    if body is not None:
        command += ["-H", "Content-Type: application/json", "--data-binary", body]
    return shlex.join([*command, url])


# ---------------------------------------------------------------------------------------------
# Self-test.

# shared/vectors/mac.json as of this file (the test reads the file itself when it is there).
_VECTORS = {
    "mac_id": "wkVd93h2uS",
    "secret": "IrdTc8uQodU7PRpLzzLTW6wqZAO6tAMU",
    "ts": 1343818800,
    "nonce": "nQnNaSNyubfPErjRO55yaaEYo9YZfKHN",
    "cases": [
        {
            "method": "GET",
            "uri": "/wallet/rest/v1/payment/10145",
            "host": "wallet.paysera.com",
            "port": 443,
            "body": "",
            "ext": "",
            "mac": "d1OlqI77u2P1IVYIv2ppL3hnrBhyaQ+gDqYMxCH+0e0=",
        },
        {
            "method": "POST",
            "uri": "/wallet/oauth/v1/",
            "host": "wallet.paysera.com",
            "port": 443,
            "body": "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA"
            "&redirect_uri=http%3A%2F%2Flocalhost%2Fabc",
            "ext": "body_hash=IftzxAtYliLQx46c2JAPidlHKqck0OXD7KmsHNnSptU%3D",
            "mac": "YEIWoGDeREjJNh+IplpTcCLRNASTAMgFqa540igFcaY=",
        },
        {
            "method": "GET",
            "uri": "/rest/v1/transaction/abc",
            "host": "127.0.0.1",
            "port": 8080,
            "body": "",
            "ext": "",
            "mac": "5meHVknE8Yef4MG7CPApKGGUWPsljFUkozUPAZYZT5M=",
        },
    ],
}


def _load_vectors() -> tuple[dict, str]:
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.environ.get("WALLET_MAC_VECTORS") or os.path.join(here, "..", "..", "shared", "vectors", "mac.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f), os.path.normpath(path)
    return _VECTORS, "the copy in this file"


def self_test() -> int:
    vectors, source = _load_vectors()
    failures = 0
    checked = 0

    def check(what: str, got, want) -> None:
        nonlocal failures, checked
        checked += 1
        if got != want:
            failures += 1
            print(f"FAIL {what}: got {got!r}, want {want!r}")

    ts, nonce = str(vectors["ts"]), vectors["nonce"]
    for i, case in enumerate(vectors["cases"]):
        body = case["body"].encode("utf-8")
        ext = ext_for(body)
        check(f"case {i} ext", ext, case["ext"])
        mac = mac_of(vectors["secret"], ts, nonce, case["method"], case["uri"], case["host"], case["port"], ext)
        check(f"case {i} mac", mac, case["mac"])

    check("php_urlencode", php_urlencode("a b+/=*~"), "a+b%2B%2F%3D%2A%7E")
    check("host_and_port", host_and_port("127.0.0.1:8080", 80), ("127.0.0.1", 8080))
    check("host_and_port default", host_and_port("example.com", 443), ("example.com", 443))
    check("host_and_port v6", host_and_port("[::1]:9", 80), ("[::1]", 9))
    many = {new_nonce() for _ in range(1000)}
    check("nonces unique", len(many), 1000)
    check("nonce alphabet", all(len(n) == 32 and '"' not in n and "\\" not in n for n in many), True)

    try:
        import requests
    except ImportError:
        print("requests is not installed: the auth object on prepared requests is not tested")
        requests = None
    if requests is not None:
        # The same vectors through the auth object, on prepared requests as `requests` sends them.
        def auth():
            return MacAuth(vectors["mac_id"], vectors["secret"], clock=lambda: vectors["ts"], nonces=lambda: nonce)

        for i, case in enumerate(vectors["cases"]):
            scheme = "https" if case["port"] == 443 else "http"
            netloc = case["host"] if case["port"] in (80, 443) else f"{case['host']}:{case['port']}"
            prepared = requests.Request(
                case["method"], f"{scheme}://{netloc}{case['uri']}", data=case["body"] or None, auth=auth()
            ).prepare()
            header = render_header(vectors["mac_id"], ts, nonce, case["mac"], case["ext"])
            check(f"case {i} header on a prepared request", prepared.headers["Authorization"], header)
        # JSON bodies and query strings as Schemathesis hands them to `requests`: signed over the
        # serialized bytes and the encoded target.
        prepared = requests.Request(
            "POST",
            "http://127.0.0.1:8080/rest/v1/transaction",
            params={"a": "x y", "b": "ä/?"},
            json={"amount": 1, "note": "é"},
            auth=auth(),
        ).prepare()
        uri = "/rest/v1/transaction?a=x+y&b=%C3%A4%2F%3F"
        ext = ext_for(prepared.body)
        want = mac_of(vectors["secret"], ts, nonce, "POST", uri, "127.0.0.1", 8080, ext)
        check("json + query", prepared.headers["Authorization"], render_header(vectors["mac_id"], ts, nonce, want, ext))
        check("content-length", prepared.headers["Content-Length"], str(len(prepared.body)))
        # A str body is sent as the UTF-8 bytes that were hashed.
        prepared = requests.Request(
            "PUT", "http://127.0.0.1:8080/rest/v1/x", data="é", headers={"Content-Type": "text/plain"}, auth=auth()
        ).prepare()
        check("str body sent as hashed bytes", prepared.body, "é".encode("utf-8"))
        check("str body content-length", prepared.headers["Content-Length"], "2")

    print(f"MAC self-test ({source}): {checked - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--curl":
        print(signed_curl(*sys.argv[2:]))
        sys.exit(0)
    if len(sys.argv) == 4 and sys.argv[1] == "--fixtures":
        with open(sys.argv[3], encoding="utf-8") as f:
            print(json.dumps(make_fixtures(sys.argv[2].rstrip("/"), json.load(f))))
        sys.exit(0)
    print(
        f"usage: {sys.argv[0]} --self-test | --fixtures BASE_URL DEMO_JSON_FILE | --curl METHOD URL [JSON_BODY]\n"
        "(Schemathesis loads this file through SCHEMATHESIS_HOOKS)"
    )
    sys.exit(2)
else:
    _register()
