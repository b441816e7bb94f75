#!/usr/bin/python3
"""What `make demo` runs under `oktacred exec`: a child that finds its Okta credentials
in the environment and calls the API with them (the local provider's userinfo)."""
import json
import os
import urllib.request

token = os.environ["OKTA_OAUTH2_ACCESS_TOKEN"]
print("OKTACRED_IDENTITY        =", os.environ["OKTACRED_IDENTITY"])
print("OKTA_ORG_URL             =", os.environ["OKTA_ORG_URL"])
print("OKTA_OAUTH2_ACCESS_TOKEN = %s... (%d characters)" % (token[:8], len(token)))
req = urllib.request.Request(os.environ["OKTA_ORG_URL"] + "/oauth2/default/v1/userinfo",
                             headers={"Authorization": "Bearer " + token})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
info = json.loads(opener.open(req, timeout=10).read())
print("userinfo with that token: %s <%s>, groups %s"
      % (info.get("name"), info.get("email"), ", ".join(info.get("groups", []))))
