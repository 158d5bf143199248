#!/usr/bin/env python3
"""Microsoft's own Python clients (msal, azure-identity) against soar-emulator.

Run by `cargo xtask peers ms`, which starts the emulator over HTTPS with its test CA, sets
REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE to that CA and passes a JSON file describing the emulator
(addresses, tenant, apps, certificate files, managed identities). Each check prints `ok NAME`
or `FAIL NAME: why`; the last line is `N passed, M failed`; the exit status is 1 on any failure.
"""
import base64
import hashlib
import json
import os
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import urllib.request
import warnings

import msal
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (AuthorizationCodeCredential, CertificateCredential, ClientSecretCredential,
                            DeviceCodeCredential, ManagedIdentityCredential)

# msal recommends form_post for web apps; the query mode is what the reference module uses.
warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
cfg = json.load(open(sys.argv[1]))
BASE = cfg["https_base"]
TENANT = cfg["tenant_id"]
AUTHORITY = f"{BASE}/{TENANT}"
GRAPH = "https://graph.microsoft.com/.default"
CTX = ssl.create_default_context(cafile=cfg["ca_pem"])
results = []


def claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok    {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            results.append((name, e))
            print(f"FAIL  {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(file=sys.stderr)
        return fn
    return wrap


def need(cond, what):
    if not cond:
        raise AssertionError(what)


def token_of(result):
    need("access_token" in result, f"no access_token: {result.get('error')} {result.get('error_description')}")
    return result["access_token"]


def secret_app():
    return msal.ConfidentialClientApplication(
        cfg["secret_app"], client_credential=cfg["secret"], authority=AUTHORITY, instance_discovery=False)


@check("msal acquire_token_for_client (secret), then served from msal's cache")
def _():
    app = secret_app()
    c = claims(token_of(app.acquire_token_for_client([GRAPH])))
    need(c["aud"] == "https://graph.microsoft.com" and c["appid"] == cfg["secret_app"], c)
    need("User.Read.All" in c.get("roles", []), c)
    again = app.acquire_token_for_client([GRAPH])
    need(again.get("token_source") == "cache", f"second call should hit the cache: {again.get('token_source')}")


@check("msal with authority validation through the emulator's instance discovery")
def _():
    app = msal.ConfidentialClientApplication(
        cfg["secret_app"], client_credential=cfg["secret"], authority=AUTHORITY,
        instance_discovery=f"{BASE}/common/discovery/instance")
    token_of(app.acquire_token_for_client([GRAPH]))


@check("msal acquire_token_for_client with a wrong secret gets AADSTS7000215")
def _():
    app = msal.ConfidentialClientApplication(
        cfg["secret_app"], client_credential="wrong", authority=AUTHORITY, instance_discovery=False)
    r = app.acquire_token_for_client([GRAPH])
    need(r.get("error") == "invalid_client", r)
    need(r.get("error_description", "").startswith("AADSTS7000215: "), r)
    need(r.get("error_codes") == [7000215], r)


@check("msal acquire_token_for_client (certificate, RS256 + x5t)")
def _():
    cert = cfg["cert_app"]
    cred = {"private_key": open(cert["key"]).read(), "thumbprint": cert["thumbprint"]}
    app = msal.ConfidentialClientApplication(cert["client_id"], client_credential=cred, authority=AUTHORITY,
                                             instance_discovery=False)
    c = claims(token_of(app.acquire_token_for_client(["https://management.azure.com/.default"])))
    need(c["appidacr"] == "2" and c["aud"] == "https://management.azure.com", c)


@check("msal acquire_token_for_client (certificate with x5c)")
def _():
    cert = cfg["cert_app"]
    cred = {"private_key": open(cert["key"]).read(), "thumbprint": cert["thumbprint"],
            "public_certificate": open(cert["cert"]).read()}
    app = msal.ConfidentialClientApplication(cert["client_id"], client_credential=cred, authority=AUTHORITY,
                                             instance_discovery=False)
    token_of(app.acquire_token_for_client([GRAPH]))


@check("msal acquire_token_for_client (PFX certificate, PS256 + x5t#S256)")
def _():
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    cert = cfg["cert_app"]
    key = serialization.load_pem_private_key(open(cert["key"], "rb").read(), password=None)
    crt = x509.load_pem_x509_certificate(open(cert["cert"], "rb").read())
    pfx = os.path.join(cfg["work_dir"], "cert-app.pfx")
    with open(pfx, "wb") as f:
        f.write(pkcs12.serialize_key_and_certificates(b"cert-app", key, crt, None, serialization.NoEncryption()))
    app = msal.ConfidentialClientApplication(cert["client_id"], client_credential={"private_key_pfx_path": pfx},
                                             authority=AUTHORITY, instance_discovery=False)
    token_of(app.acquire_token_for_client([GRAPH]))


def approve_later(user_code, delay):
    def run():
        time.sleep(delay)
        data = urllib.parse.urlencode({"user_code": user_code}).encode()
        req = urllib.request.Request(f"{BASE}/__emulator/device/approve", data=data, method="POST")
        with urllib.request.urlopen(req, context=CTX) as resp:
            need(resp.status == 200, "approval refused")
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@check("msal device flow approved through the emulator")
def _():
    app = msal.PublicClientApplication(cfg["public_app"], authority=AUTHORITY, instance_discovery=False)
    flow = app.initiate_device_flow(scopes=["https://graph.microsoft.com/User.Read"])
    need("user_code" in flow, flow)
    need(flow["verification_uri"] == "https://microsoft.com/devicelogin" and flow["interval"] == cfg["device_interval"], flow)
    # Approve after the first poll has seen authorization_pending.
    approver = approve_later(flow["user_code"], cfg["device_interval"] + 0.5)
    started = time.time()
    result = app.acquire_token_by_device_flow(flow)
    approver.join(5)
    c = claims(token_of(result))
    need(c.get("scp") == "User.Read" and c.get("upn") == cfg["user"], c)
    need(time.time() - started >= cfg["device_interval"], "msal should have polled at least twice")
    need(result.get("id_token_claims", {}).get("preferred_username") == cfg["user"], result.get("id_token_claims"))
    accounts = app.get_accounts()
    need(accounts and accounts[0]["username"] == cfg["user"], accounts)
    silent = app.acquire_token_silent(["https://graph.microsoft.com/User.Read"], account=accounts[0], force_refresh=True)
    need(silent and "access_token" in silent, f"silent refresh: {silent}")


def login(auth_uri):
    """Follows /authorize like a browser would up to the redirect, and returns its query."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=CTX))
    try:
        opener.open(auth_uri)
        raise AssertionError("/authorize did not redirect")
    except urllib.error.HTTPError as e:
        need(e.code == 302, f"status {e.code}")
        location = e.headers["Location"]
    need(location.startswith(cfg["redirect_uri"]), location)
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


REFRESH = {}


@check("msal acquire_token_by_authorization_code")
def _():
    app = secret_app()
    scopes = ["https://graph.microsoft.com/User.Read"]
    url = app.get_authorization_request_url(scopes, redirect_uri=cfg["redirect_uri"], state="st-1")
    params = login(url)
    need(params.get("state") == "st-1" and params.get("session_state"), params)
    result = app.acquire_token_by_authorization_code(params["code"], scopes, redirect_uri=cfg["redirect_uri"])
    c = claims(token_of(result))
    need(c["upn"] == cfg["user"] and c["aud"] == "https://graph.microsoft.com", c)
    need("refresh_token" in result, "a refresh token comes with offline_access")
    REFRESH["rt"] = result["refresh_token"]
    again = app.acquire_token_by_authorization_code(params["code"], scopes, redirect_uri=cfg["redirect_uri"])
    need(again.get("error") == "invalid_grant" and 54005 in again.get("error_codes", []), again)


@check("msal auth code flow (PKCE, state and nonce checked by msal)")
def _():
    app = secret_app()
    flow = app.initiate_auth_code_flow(["https://graph.microsoft.com/User.Read"], redirect_uri=cfg["redirect_uri"])
    result = app.acquire_token_by_auth_code_flow(flow, login(flow["auth_uri"]))
    token_of(result)
    # msal sends sha256(nonce) and has already compared it; check what came back all the same.
    need(result["id_token_claims"]["nonce"] == hashlib.sha256(flow["nonce"].encode()).hexdigest(), result["id_token_claims"])


@check("msal acquire_token_by_refresh_token")
def _():
    need("rt" in REFRESH, "needs the refresh token of the authorization code check")
    app = secret_app()
    result = app.acquire_token_by_refresh_token(REFRESH["rt"], ["https://management.azure.com/user_impersonation"])
    c = claims(token_of(result))
    need(c["aud"] == "https://management.azure.com" and c["scp"] == "user_impersonation", c)
    need(result.get("refresh_token") and result["refresh_token"] != REFRESH["rt"], "rotated refresh token")


@check("azure-identity ClientSecretCredential")
def _():
    cred = ClientSecretCredential(TENANT, cfg["secret_app"], cfg["secret"], authority=BASE,
                                  disable_instance_discovery=True)
    tok = cred.get_token("https://management.azure.com/.default")
    need(claims(tok.token)["appid"] == cfg["secret_app"] and tok.expires_on > time.time() + 3000, tok.expires_on)


@check("azure-identity ClientSecretCredential with a wrong secret raises")
def _():
    cred = ClientSecretCredential(TENANT, cfg["secret_app"], "wrong", authority=BASE, disable_instance_discovery=True)
    try:
        cred.get_token(GRAPH)
    except ClientAuthenticationError as e:
        need("AADSTS7000215" in str(e), str(e)[:300])
        return
    raise AssertionError("no error for a wrong secret")


@check("azure-identity CertificateCredential")
def _():
    cert = cfg["cert_app"]
    cred = CertificateCredential(TENANT, cert["client_id"], certificate_path=cert["combined"], authority=BASE,
                                 disable_instance_discovery=True)
    c = claims(cred.get_token(GRAPH).token)
    need(c["appid"] == cert["client_id"] and c["appidacr"] == "2", c)


@check("azure-identity DeviceCodeCredential approved through the emulator")
def _():
    def prompt(verification_uri, user_code, expires_on):
        need(verification_uri == "https://microsoft.com/devicelogin", verification_uri)
        approve_later(user_code, 0.2)
    cred = DeviceCodeCredential(cfg["public_app"], tenant_id=TENANT, authority=BASE, disable_instance_discovery=True,
                                prompt_callback=prompt)
    c = claims(cred.get_token("https://management.azure.com/user_impersonation").token)
    need(c["upn"] == cfg["user"] and c["aud"] == "https://management.azure.com", c)


@check("azure-identity AuthorizationCodeCredential")
def _():
    app = secret_app()
    params = login(app.get_authorization_request_url(["https://graph.microsoft.com/User.Read"],
                                                     redirect_uri=cfg["redirect_uri"]))
    cred = AuthorizationCodeCredential(TENANT, cfg["secret_app"], params["code"], cfg["redirect_uri"],
                                       client_secret=cfg["secret"], authority=BASE)
    c = claims(cred.get_token("https://graph.microsoft.com/User.Read").token)
    need(c["upn"] == cfg["user"], c)


def clean_mi_env():
    for k in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
              "AZURE_POD_IDENTITY_AUTHORITY_HOST", "IDENTITY_SERVER_THUMBPRINT", "AZURE_FEDERATED_TOKEN_FILE"):
        os.environ.pop(k, None)


@check("azure-identity ManagedIdentityCredential (IMDS, system- and user-assigned)")
def _():
    clean_mi_env()
    os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = cfg["http_base"]
    try:
        c = claims(ManagedIdentityCredential().get_token("https://management.azure.com/.default").token)
        need(c["appid"] == cfg["system_mi"], c)
        c = claims(ManagedIdentityCredential(client_id=cfg["user_mi"]).get_token("https://vault.azure.net/.default").token)
        need(c["appid"] == cfg["user_mi"] and c["aud"] == "https://vault.azure.net", c)
    finally:
        clean_mi_env()


@check("msal ManagedIdentityClient (IMDS, user-assigned by resource id)")
def _():
    import requests
    clean_mi_env()
    os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = cfg["http_base"]
    try:
        client = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(resource_id=cfg["user_mi_resource_id"]),
                                            http_client=requests.Session())
        result = client.acquire_token_for_client(resource="https://management.azure.com/")
        c = claims(token_of(result))
        need(c["appid"] == cfg["user_mi"] and c["xms_mirid"] == cfg["user_mi_resource_id"], c)
    finally:
        clean_mi_env()


@check("azure-identity ManagedIdentityCredential (App Service)")
def _():
    clean_mi_env()
    os.environ["IDENTITY_ENDPOINT"] = cfg["app_service_endpoint"]
    os.environ["IDENTITY_HEADER"] = cfg["app_service_header"]
    try:
        tok = ManagedIdentityCredential().get_token("https://storage.azure.com/.default")
        need(claims(tok.token)["aud"] == "https://storage.azure.com" and tok.expires_on > time.time(), tok.expires_on)
        os.environ["IDENTITY_HEADER"] = "wrong"
        try:
            ManagedIdentityCredential().get_token("https://storage.azure.com/.default")
            raise AssertionError("a wrong IDENTITY_HEADER was accepted")
        except ClientAuthenticationError:
            pass
    finally:
        clean_mi_env()


failed = sum(1 for _, e in results if e is not None)
print(f"{len(results) - failed} passed, {failed} failed", flush=True)
sys.exit(1 if failed else 0)
