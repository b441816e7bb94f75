#!/usr/bin/python3
"""Approve (or deny) a device login on the test identity provider, as a person would; or
sign in through an authorization code flow's pages (sign_in).

Drives http://127.0.0.1:N/activate with plain HTTP: GET the page, parse its forms
with html.parser, POST them with cookies, follow redirects. Standard library only.

    python3 tests/idp/approve.py --base URL --user-code CODE [--deny] [--user alice] [--password PW]

Library use:

    from approve import approve
    approve(base, user_code)                    # alice approves
    approve(base, user_code, deny=True)         # the person clicks "Deny"
    sign_in(authorize_url, "http://127.0.0.1:8000/callback")
                                                # the address the browser is sent back to
"""

import argparse
import html.parser
import http.cookiejar
import sys
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["approve", "sign_in", "ApproveError", "PASSWORDS"]

# The test users (see server.js).
PASSWORDS = {"alice": "correct horse", "bob": "battery staple"}

MAX_STEPS = 12


class ApproveError(RuntimeError):
    """The /activate pages did not go as expected."""


class _Form:
    def __init__(self, attrs):
        self.id = attrs.get("id")
        self.method = (attrs.get("method") or "get").lower()
        self.action = attrs.get("action")
        self.fields = []  # (name, value) of inputs that a browser would send
        self.buttons = []  # (name, value, label)


class _PageParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.status = None  # data-status of #status
        self.error = None  # (kind, text) of #error
        self.title = ""
        self._form = None
        self._button = None
        self._in_title = False
        self._in_error = False
        self._error_text = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "title":
            self._in_title = True
        if a.get("id") == "status" and "data-status" in a:
            self.status = a["data-status"]
        if a.get("id") == "error":
            self.error = (a.get("data-error", "error"), "")
            self._in_error = True
        if tag == "form":
            self._form = _Form(a)
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None:
            itype = a.get("type", "text").lower()
            name = a.get("name")
            if not name:
                return
            if itype in ("submit", "image"):
                self._form.buttons.append((name, a.get("value", ""), a.get("value", "")))
            elif itype in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((name, a.get("value", "on")))
            else:
                self._form.fields.append((name, a.get("value", "")))
        elif tag == "button" and self._form is not None:
            if a.get("type", "submit").lower() == "submit":
                self._button = [a.get("name"), a.get("value", ""), ""]

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "p" and self._in_error:
            self._in_error = False
            self.error = (self.error[0], "".join(self._error_text).strip())
        elif tag == "button" and self._button is not None and self._form is not None:
            name, value, label = self._button
            self._form.buttons.append((name, value, label.strip()))
            self._button = None
        elif tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._in_error:
            self._error_text.append(data)
        if self._button is not None:
            self._button[2] += data


class _Arrived(Exception):
    """The browser was sent to the redirect URI: where, instead of following it."""

    def __init__(self, url):
        super().__init__(url)
        self.url = url


class _StopAt(urllib.request.HTTPRedirectHandler):
    """Follows redirects, except to an address that starts with one of stop_at."""

    def __init__(self, stop_at):
        super().__init__()
        self.stop_at = stop_at

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if any(newurl.startswith(p) for p in self.stop_at):
            raise _Arrived(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Browser:
    def __init__(self, timeout, stop_at=()):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            _StopAt(stop_at),
            urllib.request.ProxyHandler({}),  # never through a proxy: loopback only
        )
        self.timeout = timeout
        self.trail = []  # (method, url, status) of every request made

    def request(self, method, url, data=None):
        body = None
        headers = {"User-Agent": "oktacred-test-approve/1", "Accept": "text/html"}
        if method == "GET" and data:
            url = url.split("?", 1)[0] + "?" + urllib.parse.urlencode(data)
        elif method == "POST":
            body = urllib.parse.urlencode(data or []).encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                status, final_url, page = resp.status, resp.geturl(), resp.read()
        except urllib.error.HTTPError as err:
            status, final_url, page = err.code, err.geturl(), err.read()
        except urllib.error.URLError as err:
            raise ApproveError(f"cannot reach {url}: {err.reason}") from err
        self.trail.append((method, url, status))
        text = page.decode("utf-8", "replace")
        parser = _PageParser()
        parser.feed(text)
        parser.close()
        return status, final_url, parser, text


def _submit(browser, page_url, form, button=None, overrides=None):
    data = list(form.fields)
    if overrides:
        data = [(k, v) for k, v in data if k not in overrides] + list(overrides.items())
    if button is not None and button[0]:
        data.append((button[0], button[1]))
    action = urllib.parse.urljoin(page_url, form.action or page_url)
    return browser.request("POST" if form.method == "post" else "GET", action, data)


def _find_button(form, name):
    for b in form.buttons:
        if b[0] == name:
            return b
    raise ApproveError(f"form {form.id!r} has no {name!r} button (buttons: {form.buttons})")


def approve(base, user_code, username="alice", password=None, deny=False, timeout=10.0):
    """Approve (deny=False) or deny the device whose user code is `user_code`.

    Returns "approved" or "denied"; raises ApproveError when a page is not as
    expected (unknown or expired code, wrong password, missing form, ...).
    deny=True clicks "Deny" on the code page; deny="login" confirms the code
    and clicks "Cancel" on the sign-in page instead (also access_denied).
    `password` defaults to the test user's password ("correct horse" for alice).
    """
    if password is None:
        password = PASSWORDS.get(username, "")
    browser = _Browser(timeout)
    url = base.rstrip("/") + "/activate?" + urllib.parse.urlencode({"user_code": user_code})
    status, url, page, text = browser.request("GET", url)
    seen = set()

    for _ in range(MAX_STEPS):
        if page.status == "approved":
            if deny:
                raise ApproveError("the device was approved although deny=True")
            return "approved"
        if page.status == "denied":
            if not deny:
                raise ApproveError("the device was denied")
            return "denied"
        if page.error:
            kind, msg = page.error
            raise ApproveError(f"{url}: HTTP {status}, error {kind}: {msg}")

        forms = {f.id: f for f in page.forms}
        button = None
        overrides = None
        if "code-form" in forms:
            # enter/confirm the code: "Next" (confirm=yes) or "Deny" (abort=yes)
            step, form = "code", forms["code-form"]
            want = "abort" if deny and deny != "login" else "confirm"
            if want == "abort" or any(b[0] == want for b in form.buttons):
                button = _find_button(form, want)
            overrides = {"user_code": user_code}
        elif "activate-form" in forms:
            step, form = "activate", forms["activate-form"]
            overrides = {"user_code": user_code}
        elif "confirm-form" in forms:
            step, form = "confirm", forms["confirm-form"]
            button = _find_button(form, "abort" if deny and deny != "login" else "confirm")
        elif "login-form" in forms:
            step, form = "login", forms["login-form"]
            button = _find_button(form, "cancel" if deny == "login" else "login")
            overrides = {"username": username, "password": password}
        else:
            raise ApproveError(
                f"unexpected page at {url} (HTTP {status}, title {page.title.strip()!r}): "
                f"{text[:300]!r}")
        if step in seen:
            raise ApproveError(f"the {step} page came back at {url}; requests: {browser.trail}")
        seen.add(step)
        resp = _submit(browser, url, form, button, overrides)
        status, url, page, text = resp
    raise ApproveError(f"too many steps; requests: {browser.trail}")


def sign_in(authorize_url, redirect_uri, username="alice", password=None, deny=False,
            timeout=10.0):
    """Open authorize_url (an authorization code flow's address) as a browser would, sign
    in on the login page (deny=True: click "Cancel" there), and return the address the
    identity provider sends the browser to (redirect_uri?code=...&state=... or
    ?error=access_denied...), without opening it. Both loopback spellings of
    redirect_uri's host count. Raises ApproveError when a page is not as expected."""
    if password is None:
        password = PASSWORDS.get(username, "")
    alt = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}
    parts = urllib.parse.urlsplit(redirect_uri)
    stops = [redirect_uri]
    if parts.hostname in alt:
        stops.append(redirect_uri.replace(parts.hostname, alt[parts.hostname], 1))
    browser = _Browser(timeout, stop_at=stops)
    try:
        status, url, page, text = browser.request("GET", authorize_url)
        for _ in range(MAX_STEPS):
            if page.error:
                kind, msg = page.error
                raise ApproveError(f"{url}: HTTP {status}, error {kind}: {msg}")
            forms = {f.id: f for f in page.forms}
            if "login-form" not in forms:
                raise ApproveError(
                    f"unexpected page at {url} (HTTP {status}, title {page.title.strip()!r}): "
                    f"{text[:300]!r}")
            form = forms["login-form"]
            button = _find_button(form, "cancel" if deny else "login")
            status, url, page, text = _submit(
                browser, url, form, button, {"username": username, "password": password})
        raise ApproveError(f"too many steps; requests: {browser.trail}")
    except _Arrived as arrived:
        return arrived.url


def main(argv=None):
    ap = argparse.ArgumentParser(description="Approve or deny a device login on the test IdP.")
    ap.add_argument("--base", required=True, help="the IdP's base URL, http://127.0.0.1:N")
    ap.add_argument("--user-code", required=True, help="the user code the device shows")
    ap.add_argument("--user", default="alice", help="test user (alice, bob)")
    ap.add_argument("--password", default=None, help="default: the test user's password")
    ap.add_argument("--deny", action="store_true", help='click "Deny" instead of "Next"')
    ap.add_argument("--deny-at-login", action="store_true",
                    help='confirm the code, then click "Cancel" on the sign-in page')
    args = ap.parse_args(argv)
    try:
        result = approve(args.base, args.user_code, username=args.user,
                         password=args.password,
                         deny="login" if args.deny_at_login else args.deny)
    except ApproveError as err:
        print(f"approve: {err}", file=sys.stderr)
        return 1
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
