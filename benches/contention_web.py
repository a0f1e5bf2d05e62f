#!/usr/bin/env python3
"""The web side of benches/store-contention.sh: a signed-in user who saves one figure of
section 1.4 again and again, or one who reads the dashboard, until told to stop (the stop
file exists).

Usage:
  contention_web.py BASE USER PASSWORD CODE save STOP-FILE
  contention_web.py BASE USER PASSWORD CODE read STOP-FILE

Prints one line per request that did not succeed ("FAIL <status> <what>") and, in save mode,
one line per save answered as saved ("SAVED <value>"); at the end a summary line
"web-<mode> ok=N conflict=N busy=N fail=N". A 409 (someone changed the figure between
reading and saving: the user is told and nothing is lost) is counted apart; 503 (busy,
nothing saved) and 500 are failures.
"""

import html
import http.cookiejar
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

FIELD = "2025|staff.establishment|"


class Client:
    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def request(self, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")


def csrf_of(page):
    match = re.search(r'name="csrf" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else ""


def main():
    base, user, password, code, mode, arg = sys.argv[1:7]
    client = Client(base)
    _, login = client.request("/login")
    status, _ = client.request(
        "/login", {"csrf": csrf_of(login), "name": user, "password": password}
    )
    if status != 303:
        print(f"FAIL login HTTP {status}")
        sys.exit(1)
    counts = {"ok": 0, "conflict": 0, "busy": 0, "fail": 0}

    def tally(status, what):
        if status in (200, 303):
            counts["ok"] += 1
            return True
        elif status == 409:
            counts["conflict"] += 1
        else:
            counts["busy" if status == 503 else "fail"] += 1
            print(f"FAIL {status} {what}", flush=True)
        return False

    if mode == "save":
        path = f"/schools/{code}/sections/1.4"
        i = 0
        while not os.path.exists(arg):
            i += 1
            status, page = client.request(path)
            if status != 200:
                tally(status, f"GET {path}")
                continue
            match = re.search(r'name="o\|' + re.escape(FIELD) + r'" value="([^"]*)"', page)
            original = html.unescape(match.group(1)) if match else ""
            # A value of its own each time, never one an import sets: every save is a change.
            value = str(1000 + i)
            status, _ = client.request(
                path,
                {
                    "csrf": csrf_of(page),
                    "v|" + FIELD: value,
                    "o|" + FIELD: original,
                },
            )
            if tally(status, f"POST {path} {value}") and status == 303:
                print(f"SAVED {value}", flush=True)
    else:
        path = f"/schools/{code}"
        while not os.path.exists(arg):
            status, _ = client.request(path)
            tally(status, f"GET {path}")
    print(
        f"web-{mode} ok={counts['ok']} conflict={counts['conflict']} "
        f"busy={counts['busy']} fail={counts['fail']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
