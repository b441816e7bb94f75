// The real Azure client for oktacred's tests: @azure/identity's WorkloadIdentityCredential,
// configured by the environment alone (AZURE_CLIENT_ID, AZURE_TENANT_ID,
// AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST), as `oktacred exec` sets it.
//
//   node client.js once    one token for https://management.azure.com/.default: prints
//                          {"token": ACCESS_TOKEN} on stdout
//   node client.js renew   one token, then waits (up to 120 s) for the federated token file
//                          to be rewritten with another token, then a token with a new
//                          credential (the SDK keeps a file's content for 5 minutes and the
//                          access token for its lifetime): prints both, one JSON line each,
//                          with the SHA-256 of the file's token each was obtained with
//
// disableInstanceDiscovery: MSAL would otherwise ask login.microsoftonline.com (not the
// authority host) whether the host is an Entra instance; the option is the one
// @azure/identity documents for private clouds and Azure Stack. The OpenID metadata is
// still fetched from the authority.
const crypto = require("node:crypto");
const fs = require("node:fs");
const { WorkloadIdentityCredential } = require("@azure/identity");

const SCOPE = "https://management.azure.com/.default";

async function token() {
  const cred = new WorkloadIdentityCredential({ disableInstanceDiscovery: true });
  const t = await cred.getToken(SCOPE);
  return t.token;
}

function waitForChange(path, before, ms) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const check = () => {
      let now;
      try {
        now = fs.readFileSync(path, "utf8");
      } catch (e) {
        now = before; // between a rename and the next read: try again
      }
      if (now !== before) return resolve(now);
      if (Date.now() > deadline) return reject(new Error("the token file was not renewed"));
      setTimeout(check, 50);
    };
    check();
  });
}

async function main() {
  const mode = process.argv[2] || "once";
  const file = process.env.AZURE_FEDERATED_TOKEN_FILE;
  if (mode === "once") {
    console.log(JSON.stringify({ token: await token() }));
    return;
  }
  const before = fs.readFileSync(file, "utf8");
  const sha = (s) => crypto.createHash("sha256").update(s).digest("hex");
  console.log(JSON.stringify({ token: await token(), file_sha256: sha(before) }));
  const after = await waitForChange(file, before, 120000);
  console.log(JSON.stringify({ token: await token(), file_sha256: sha(after) }));
}

main().catch((e) => {
  console.error("client.js: " + (e && e.message ? e.message : e));
  process.exit(1);
});
