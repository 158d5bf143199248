#!/usr/bin/env python3
"""The Python side of `cargo xtask bench cold-start`: one token and one Graph GET, then exit.

What a Python integration does on a cold start: import msal and requests, build a
ConfidentialClientApplication for the emulator's authority (instance discovery off, so msal
fetches only the tenant's OpenID configuration), acquire a client-credentials token for Graph,
and GET the user with requests. Prints the user's id on stdout; any failure exits 1 with the
reason on stderr. The client secret comes from COLD_START_SECRET, not the command line, so it
never shows in a process listing.

Usage: cold_start.py AUTHORITY CLIENT_ID GRAPH_BASE USER
"""
import os
import sys
import urllib.parse

import msal
import requests


def main():
    authority, client_id, graph_base, user = sys.argv[1:5]
    app = msal.ConfidentialClientApplication(
        client_id,
        client_credential=os.environ["COLD_START_SECRET"],
        authority=authority,
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    token = result.get("access_token")
    if not token:
        sys.exit(f"no token: {result.get('error')}: {result.get('error_description')}")
    url = f"{graph_base}/v1.0/users/{urllib.parse.quote(user, safe='')}"
    resp = requests.get(url, params={"$select": "*"}, headers={"Authorization": f"Bearer {token}"},
                        timeout=60)
    if resp.status_code != 200:
        sys.exit(f"GET {url}: {resp.status_code} {resp.text[:300]}")
    print(resp.json()["id"])


if __name__ == "__main__":
    main()
