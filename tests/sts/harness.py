"""Start and drive the fake AWS STS (tests/sts/server.js).

Standard library only; importable by pytest tests and scripts:

    sys.path.insert(0, "tests/sts")
    from harness import FakeSTS
    with FakeSTS.start(idp.base) as sts:          # node server.js --port 0 --idp-base ...
        sts.base, sts.port, sts.pid
        r = sts.assume_role_with_web_identity(id_token, "Dev")      # role name or ARN
        r.status, r.code, r.data["Credentials"]["AccessKeyId"]
        sts.get_caller_identity(ak, sk, st)       # SigV4-signed here, verified there
        sts.log(); sts.reset(); sts.config(roles={...}); sts.settings(credential_ttl_override_s=600)
        sts.fault(action="AssumeRoleWithWebIdentity", code="IDPCommunicationError", count=2)
        sts.expire(all=True)

    env = aws_cli_env(config_path)                # the environment /usr/bin/aws needs in tests
"""

import datetime
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

__all__ = ["FakeSTS", "FakeSTSError", "StsResult", "parse_sts_xml", "sigv4_sign",
           "aws_cli_env", "write_aws_config", "credential_process_json", "id_token",
           "AWS_CLI", "DEFAULT_ACCOUNT", "NATIVE_CLIENT"]

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))
from nodeserver import OPENER as _OPENER, NodeServer  # noqa: E402  (tests/nodeserver.py)
NS = "https://sts.amazonaws.com/doc/2011-06-15/"
DEFAULT_ACCOUNT = "123456789012"
NATIVE_CLIENT = "0oa-test-native"
# Debian's awscli 2.9. Call it by its full path: an `aws` earlier in PATH (pip, pyenv
# shims) may be another version.
AWS_CLI = "/usr/bin/aws"



class FakeSTSError(RuntimeError):
    pass


# -- XML ----------------------------------------------------------------------------

def _strip(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def _to_dict(elem):
    kids = list(elem)
    if not kids:
        return elem.text or ""
    return {_strip(k.tag): _to_dict(k) for k in kids}


def parse_sts_xml(text):
    """An STS XML answer as (root element name, dict). Success:
    ("AssumeRoleWithWebIdentityResponse", {"AssumeRoleWithWebIdentityResult": {...},
    "ResponseMetadata": {"RequestId": ...}}); errors: ("ErrorResponse",
    {"Error": {"Type", "Code", "Message"}, "RequestId"}). Raises ValueError if not XML."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise ValueError(f"not XML: {err}: {text[:200]!r}") from None
    return _strip(root.tag), _to_dict(root)


class StsResult:
    """One STS answer. status, headers, text (raw body), root (XML root name or None),
    data (the *Result dict on success, the Error dict on errors, None if not XML),
    code (error code or None), message, request_id."""

    def __init__(self, status, headers, text):
        self.status = status
        self.headers = headers
        self.text = text
        self.root = None
        self.data = None
        self.code = None
        self.message = None
        self.request_id = None
        try:
            self.root, doc = parse_sts_xml(text)
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        if self.root == "ErrorResponse":
            self.data = doc.get("Error") or {}
            self.code = self.data.get("Code")
            self.message = self.data.get("Message")
            self.request_id = doc.get("RequestId")
        else:
            result = self.root.replace("Response", "Result")
            self.data = doc.get(result)
            self.request_id = (doc.get("ResponseMetadata") or {}).get("RequestId")

    @property
    def ok(self):
        return self.status == 200 and self.code is None

    @property
    def credentials(self):
        """{"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"} of a success."""
        return (self.data or {}).get("Credentials")

    def __repr__(self):
        return f"StsResult(status={self.status}, code={self.code!r}, message={self.message!r})"


# -- SigV4 (to make signed requests without botocore) -----------------------------------

def _uri_encode(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


def sigv4_sign(method, url, headers, body, access_key_id, secret_access_key,
               session_token=None, region="us-east-1", service="sts", now=None):
    """Add X-Amz-Date, (X-Amz-Security-Token) and Authorization to headers (a dict, changed
    in place and returned) for a request to url. Signs host, content-type (if given),
    x-amz-date and x-amz-security-token. now: a datetime (UTC) to sign as."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    parts = urllib.parse.urlsplit(url)
    headers = headers if headers is not None else {}
    headers["Host"] = parts.netloc
    headers["X-Amz-Date"] = amz_date
    if session_token is not None:
        headers["X-Amz-Security-Token"] = session_token
    signed = {k.lower(): " ".join(str(v).strip().split()) for k, v in headers.items()
              if k.lower() in ("host", "content-type", "x-amz-date", "x-amz-security-token")}
    names = sorted(signed)
    pairs = sorted(
        (_uri_encode(urllib.parse.unquote(k)), _uri_encode(urllib.parse.unquote(v)))
        for k, _, v in (p.partition("=") for p in parts.query.split("&") if p))
    canonical = "\n".join([
        method,
        _uri_encode(parts.path or "/", safe="/-_.~"),
        "&".join(f"{k}={v}" for k, v in pairs),
        "".join(f"{n}:{signed[n]}\n" for n in names),
        ";".join(names),
        hashlib.sha256(body or b"").hexdigest(),
    ])
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_access_key).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={sig}")
    return headers


# -- the AWS CLI in tests ---------------------------------------------------------------

def aws_cli_env(config_path, home=None, extra=None, path=None):
    """The whole environment for /usr/bin/aws in a test (pass as env=, nothing inherited):
    its config file, no shared credentials file, no instance metadata, no pager, no
    AWS_* from the caller. extra: more variables (e.g. AWS_ACCESS_KEY_ID...)."""
    home = home or os.path.dirname(os.path.abspath(config_path))
    env = {
        "PATH": path or "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": os.path.abspath(config_path),
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "AWS_CLI_AUTO_PROMPT": "off",
        "AWS_RETRY_MODE": "standard",
        "AWS_MAX_ATTEMPTS": "1",
    }
    env.update(extra or {})
    return env


def write_aws_config(path, profiles, default=None):
    """Write an AWS config file: profiles {"name": {"credential_process": "...",
    "region": "us-east-1", ...}}; default: settings of [default]. The AWS CLI 2.9
    ignores endpoint_url in the config: pass --endpoint-url."""
    lines = []
    if default:
        lines.append("[default]")
        lines += [f"{k} = {v}" for k, v in default.items()]
        lines.append("")
    for name, opts in profiles.items():
        lines.append(f"[profile {name}]")
        lines += [f"{k} = {v}" for k, v in opts.items()]
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


def credential_process_json(creds):
    """The credential_process output for a Credentials dict of an STS answer."""
    return json.dumps({"Version": 1, "AccessKeyId": creds["AccessKeyId"],
                       "SecretAccessKey": creds["SecretAccessKey"],
                       "SessionToken": creds["SessionToken"], "Expiration": creds["Expiration"]})


def id_token(idp, user="alice", server="default", scope="openid profile email groups offline_access",
             client_id=NATIVE_CLIENT):
    """An ID token from the local IdP (tests/idp) through the device flow, approved by
    `user` on /activate. Returns the whole token answer (id_token, access_token, ...)."""
    idp_dir = os.path.join(os.path.dirname(HERE), "idp")
    if idp_dir not in sys.path:
        sys.path.insert(0, idp_dir)
    from approve import approve  # noqa: E402 (tests/idp/approve.py)

    d = idp.device_authorize(server, client_id=client_id, scope=scope)
    approve(idp.base, d["user_code"], username=user)
    status, body = idp.poll(d["device_code"], server=server, client_id=client_id)
    if status != 200 or "id_token" not in body:
        raise FakeSTSError(f"device flow: HTTP {status}: {body}")
    return body


# -- the server ---------------------------------------------------------------------------

class FakeSTS(NodeServer):
    """A running tests/sts/server.js. Use FakeSTS.start(); stop() or a with-block ends it."""

    error = FakeSTSError
    what = "the fake STS"

    def __init__(self, proc, port, base, account, stderr_path=None, keep_log=False):
        super().__init__(proc, port, base, stderr_path, keep_log)
        self.account = account

    # -- life cycle -------------------------------------------------------

    @classmethod
    def start(cls, idp_base=None, audiences=(NATIVE_CLIENT,), issuers=None, roles=None,
              account=DEFAULT_ACCOUNT, settings=None, port=0, node="node", timeout=30.0,
              stderr=None, keep_log=False):
        """Start the server; returns a FakeSTS once it printed its ready line.

        idp_base: the IdP's base URL; its two issuers (BASE/oauth2/default and BASE) are
        registered as OIDC providers with `audiences`, unless `issuers` lists others.
        roles: {arn or role name: {"max_duration": 3600..43200, "require_group": str|None,
        "reject_code": "IDPRejectedClaim"|"AccessDenied"}}; default Dev (43200, no group)
        and Admin (3600, AWS-Admins). settings: initial settings (see settings()).
        stderr: None writes the server's log to a temporary file (.stderr_text()), deleted
        by stop() unless keep_log=True; or a file object / subprocess.DEVNULL."""
        args = [node, os.path.join(HERE, "server.js"), "--port", str(port), "--account", account]
        if idp_base:
            args += ["--idp-base", idp_base.rstrip("/")]
        for iss in issuers or ():
            args += ["--issuer", iss]
        for aud in audiences:
            args += ["--audience", aud]
        cfg = {}
        if roles is not None:
            cfg["roles"] = roles
        if settings:
            cfg["settings"] = settings
        if cfg:
            args += ["--config", json.dumps(cfg)]
        proc, port, base, stderr_path = cls.launch(args, HERE, timeout, stderr, keep_log,
                                                   "oktacred-sts-")
        return cls(proc, port, base, account, stderr_path, keep_log)

    def role_arn(self, name="Dev", account=None):
        return f"arn:aws:iam::{account or self.account}:role/{name}"

    # -- controls -------------------------------------------------------------

    def log(self):
        """Every STS API request (list of dicts; see README.md)."""
        return self._control("GET", "log")

    def reset(self, credentials=False):
        """Clear the log and faults, settings back to defaults (config and issued
        credentials stay; credentials=True forgets those too)."""
        return self._control("POST", "reset", {"credentials": True} if credentials else {})

    def config(self, **kw):
        """providers=[{"issuer", "audiences"}], roles={arn|name: {...}}, account="...":
        each given key replaces the current one. No arguments: the current config."""
        if not kw:
            return self._control("GET", "config")
        return self._control("POST", "config", kw)

    def settings(self, **kw):
        """credential_ttl_override_s, clock_offset_s, jwks_cache_s, idp_timeout_ms,
        idp_error_code, session_token_length, response_delay_ms, region, max_skew_s,
        iat_leeway_s, shuffle_xml. Returns all settings."""
        if not kw:
            return self._control("GET", "settings")
        return self._control("POST", "settings", kw)

    def fault(self, action="AssumeRoleWithWebIdentity", status=None, code=None, message=None,
              count=1, body=None, content_type=None, headers=None, hang=False, drop=False,
              delay_ms=0, type=None):
        """The next `count` requests for `action` ("*": any) get this answer instead of
        being processed (count=0 clears). code: an AWS error XML with that code (status
        default: AWS's for the code); body: a raw body (content_type, status default 500);
        hang: never answer; drop: close the connection without an answer."""
        spec = {"action": action, "count": count, "hang": hang, "drop": drop,
                "delay_ms": delay_ms, "headers": headers or {}}
        for k, v in (("status", status), ("code", code), ("message", message),
                     ("body", body), ("content_type", content_type), ("type", type)):
            if v is not None:
                spec[k] = v
        return self._control("POST", "fault", spec)

    def faults(self):
        return self._control("GET", "faults")

    def expire(self, access_key_id=None, all=False):
        """Make issued credentials expired (GetCallerIdentity answers ExpiredToken)."""
        if all:
            return self._control("POST", "expire", {"all": True})
        if not access_key_id:
            raise ValueError("give access_key_id or all=True")
        return self._control("POST", "expire", {"access_key_id": access_key_id})

    def credentials(self):
        """Every issued credential set (with secrets, expiry, ARN)."""
        return self._control("GET", "credentials")

    # -- STS calls (for tests and demos) ------------------------------------------

    def request(self, method="POST", params=None, headers=None, body=None, path="/",
                query=None, timeout=30):
        """A raw request to the STS; returns StsResult. params: form fields (body)."""
        url = self.base + path + (("?" + urllib.parse.urlencode(query)) if query else "")
        hdrs = dict(headers or {})
        if params is not None:
            body = urllib.parse.urlencode(params).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        req = urllib.request.Request(url, data=body, headers=hdrs, method=method)
        try:
            with _OPENER.open(req, timeout=timeout) as resp:
                return StsResult(resp.status, resp.headers, resp.read().decode(errors="replace"))
        except urllib.error.HTTPError as err:
            return StsResult(err.code, err.headers, err.read().decode(errors="replace"))

    def assume_role_with_web_identity(self, token, role="Dev", session_name="oktacred-test",
                                      duration=None, query_form=False, **extra):
        """AssumeRoleWithWebIdentity (unsigned). role: a name (this account) or an ARN.
        extra: more parameters (Policy=..., ProviderId=...). Returns StsResult."""
        params = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                  "RoleArn": role if role.startswith("arn:") else self.role_arn(role),
                  "RoleSessionName": session_name, "WebIdentityToken": token}
        if duration is not None:
            params["DurationSeconds"] = str(duration)
        params.update(extra)
        if query_form:
            return self.request("POST", query=params, body=b"")
        return self.request("POST", params=params)

    def get_caller_identity(self, access_key_id, secret_access_key, session_token,
                            region="us-east-1", now=None):
        """GetCallerIdentity signed with SigV4 here (sigv4_sign). Returns StsResult."""
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        url = self.base + "/"
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        sigv4_sign("POST", url, headers, body, access_key_id, secret_access_key,
                   session_token, region=region, now=now)
        return self.request("POST", headers=headers, body=body)
