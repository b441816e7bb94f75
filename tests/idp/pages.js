// HTML pages of the test identity provider's /activate flow.
//
// Plain forms, no JavaScript: a browser and a scripted client (approve.py) go
// through exactly the same requests. Stable hooks for scripts:
//   form ids: activate-form (enter code, GET /activate), code-form (enter or
//   confirm the code, POST; buttons confirm=yes "Next" / abort=yes "Deny"),
//   confirm-form (only when a code is posted without confirm; same buttons),
//   login-form (username, password; buttons login=yes / cancel=yes);
//   <h1 id="status" data-status="approved|denied">, <p id="error" data-error="KIND">.

export function esc(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}
label{display:block;margin:.6em 0}input[type=text],input[type=password]{width:100%;padding:.4em;box-sizing:border-box}
button{padding:.4em 1.2em;margin:.4em .4em 0 0}.error{color:#b00}code{font-size:1.5em}`;

export function layout(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<p><small>oktacred test identity provider</small></p>
${body}
</body>
</html>
`;
}

export function errorLine(kind, message) {
  return `<p class="error" id="error" data-error="${esc(kind)}">${esc(message)}</p>`;
}

// First page of /activate (no code yet, or an unknown code): a GET form.
export function activatePage({ userCode = '', error } = {}) {
  return layout('Activate your device', `<h1>Activate your device</h1>
${error ? errorLine(error.kind, error.message) : '<p>Enter the code displayed on your device.</p>'}
<form id="activate-form" method="get" action="/activate">
<label>Activation code <input type="text" name="user_code" value="${esc(userCode)}" autocomplete="off" autofocus></label>
<button type="submit">Next</button>
</form>`);
}

// The provider's own code entry page (carries its xsrf token). "Next" confirms
// the code (then the sign-in form), "Deny" refuses the device at once.
export function codePage({ action, hidden, userCode = '', error, denied }) {
  if (denied) {
    return layout('Access denied', `<h1 id="status" data-status="denied">Access denied</h1>
<p>The device was not given access. You can close this page.</p>
<p><a href="/activate">Activate another device</a></p>`);
  }
  return layout('Activate your device', `<h1>Activate your device</h1>
${error ? errorLine(error.kind, error.message) : '<p>Enter the code displayed on your device.</p>'}
<form id="code-form" method="post" action="${esc(action)}">
${hiddenInputs(hidden)}
<label>Activation code <input type="text" name="user_code" value="${esc(userCode)}" autocomplete="off" autofocus></label>
<button type="submit" name="confirm" value="yes">Next</button>
<button type="submit" name="abort" value="yes">Deny</button>
</form>`);
}

export function confirmPage({ action, hidden, clientName, userCode, server }) {
  return layout('Confirm device', `<h1>Confirm device</h1>
<p><strong>${esc(clientName)}</strong> (authorization server: ${esc(server)}) asks for access.</p>
<p>Check that your device shows this code:</p>
<p><code id="user-code">${esc(userCode)}</code></p>
<form id="confirm-form" method="post" action="${esc(action)}">
${hiddenInputs(hidden)}
<button type="submit" name="confirm" value="yes" autofocus>Allow</button>
<button type="submit" name="abort" value="yes">Deny</button>
</form>`);
}

export function loginPage({ action, clientName, username = '', error }) {
  return layout('Sign in', `<h1>Sign in</h1>
<p>to continue to <strong>${esc(clientName)}</strong></p>
${error ? errorLine(error.kind, error.message) : ''}
<form id="login-form" method="post" action="${esc(action)}">
<label>Username <input type="text" name="username" value="${esc(username)}" autocomplete="username" autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit" name="login" value="yes">Sign in</button>
<button type="submit" name="cancel" value="yes">Cancel</button>
</form>`);
}

export function successPage({ clientName }) {
  return layout('Device activated', `<h1 id="status" data-status="approved">Device activated</h1>
<p>${esc(clientName)} now has access. You can close this page and return to your device.</p>`);
}

export function errorPage({ kind, message }) {
  return layout('Error', `<h1>Something went wrong</h1>
${errorLine(kind, message)}`);
}

// hidden: [[name, value], ...] (plain text, escaped here)
function hiddenInputs(hidden = []) {
  return hidden
    .map(([name, value]) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`)
    .join('\n');
}

// Reads the hidden inputs and the action of a form that oidc-provider rendered.
export function parseProviderForm(html) {
  const unescape = (s) => s.replace(/&(amp|lt|gt|quot|#39);/g, (m, e) => ({
    amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'",
  })[e]);
  const action = /<form[^>]*\baction="([^"]*)"/.exec(html);
  const hidden = [];
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)) {
    hidden.push([m[1], unescape(m[2])]);
  }
  return { action: action ? unescape(action[1]) : undefined, hidden };
}
