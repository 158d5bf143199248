#!/usr/bin/env python3
"""The Python side of the cached-token row of `cargo xtask bench`: one Graph GET with a token
that is already known, then exit.

What a Python integration does at the least on a run whose token is cached in the integration
context: start the interpreter, import requests, and GET the user. It imports no msal and no
XSOAR common code, so it is the most favourable Python baseline (the reference integration
imports more). Prints the user's id; any failure exits 1 with the reason on stderr. The token
comes from CACHED_GET_TOKEN, not the command line, so it never shows in a process listing.

Usage: cached_get.py GRAPH_BASE USER
"""
import os
import sys
import urllib.parse

import requests


def main():
    graph_base, user = sys.argv[1:3]
    token = os.environ["CACHED_GET_TOKEN"]
    url = f"{graph_base}/v1.0/users/{urllib.parse.quote(user, safe='')}"
    resp = requests.get(url, params={"$select": "*"}, headers={"Authorization": f"Bearer {token}"},
                        timeout=60)
    if resp.status_code != 200:
        sys.exit(f"GET {url}: {resp.status_code} {resp.text[:300]}")
    print(resp.json()["id"])


if __name__ == "__main__":
    main()
