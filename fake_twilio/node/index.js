'use strict';
/*
 * Point Node code that talks to Twilio at a fake-twilio server (see README.md next to this file).
 *
 * Two ways, both plain CommonJS without dependencies:
 *
 * - FakeTwilioHttpClient: an `httpClient` for the official `twilio` package (v3, v4, v5). It
 *   sends `https://<product>[.<edge>][.<region>].twilio.com/<path>` to `<fakeUrl>/<product>/<path>`.
 * - installHttpsPatch(): redirects every `https.request`/`https.get` (hence axios, the twilio
 *   SDK's default client, got, node-fetch...) and `fetch` aimed at `*.twilio.com` to the fake.
 *   preload.js runs it from `node -r`, configured by the FAKE_TWILIO_URL environment variable.
 */

const fs = require('fs');
const http = require('http');
const https = require('https');
const { URL } = require('url');

const VERSION = '0.1.0';

/** The fake's documented default credentials (fake_twilio/core/accounts.py). */
const DEFAULT_CREDENTIALS = Object.freeze({
  accountSid: 'ACfa4e000000000000000000000000f001',
  authToken: 'fake_auth_token_0000000000000001',
  apiKeySid: 'SKfa4e000000000000000000000000f001',
  apiKeySecret: 'fake_api_key_secret_000000000001',
});

/** The environment variables that override them, as for `fake-twilio serve`. */
const CREDENTIAL_ENV = Object.freeze({
  accountSid: 'FAKE_TWILIO_ACCOUNT_SID',
  authToken: 'FAKE_TWILIO_AUTH_TOKEN',
  apiKeySid: 'FAKE_TWILIO_API_KEY_SID',
  apiKeySecret: 'FAKE_TWILIO_API_KEY_SECRET',
});

/** `video.twilio.com`, `media.dublin.ie1.twilio.com`... (the first label is the product). */
const TWILIO_HOST_RE = /^([a-z0-9-]+)((?:\.[a-z0-9-]+)*)\.twilio\.com\.?$/i;

const DEFAULT_TIMEOUT = 30000;

// -- URLs ---------------------------------------------------------------------------------------

function hostOnly(host) {
  let value = String(host || '');
  if (value.startsWith('[')) return value.slice(1, value.indexOf(']'));
  const colon = value.indexOf(':');
  if (colon !== -1 && value.indexOf(':', colon + 1) === -1) value = value.slice(0, colon);
  return value;
}

/** The Twilio product a host name belongs to (`video`, `media`...), or null if not Twilio's. */
function twilioProduct(host) {
  const match = TWILIO_HOST_RE.exec(hostOnly(host));
  return match ? match[1].toLowerCase() : null;
}

/** Parse and check the fake's base URL (`http://127.0.0.1:8080`, maybe with a path prefix). */
function parseFakeUrl(fakeUrl) {
  if (!fakeUrl) {
    throw new Error(
      'fake-twilio: no fake URL: pass { fakeUrl } or set FAKE_TWILIO_URL (e.g. http://127.0.0.1:8080)'
    );
  }
  let parsed;
  try {
    parsed = new URL(String(fakeUrl));
  } catch (error) {
    throw new Error(`fake-twilio: invalid fake URL ${JSON.stringify(String(fakeUrl))}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`fake-twilio: the fake URL must be http(s), not ${parsed.protocol}`);
  }
  return {
    href: parsed.origin + parsed.pathname.replace(/\/+$/, ''),
    protocol: parsed.protocol,
    hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80,
    basePath: parsed.pathname.replace(/\/+$/, ''),
  };
}

/**
 * `https://video.twilio.com/v1/Rooms?PageSize=5` -> `<fakeUrl>/video/v1/Rooms?PageSize=5`.
 * URLs that are not `*.twilio.com` come back unchanged.
 */
function rewriteTwilioUrl(url, fakeUrl) {
  let parsed;
  try {
    parsed = new URL(String(url));
  } catch (error) {
    return url;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return url;
  const product = twilioProduct(parsed.hostname);
  if (!product) return url;
  const fake = typeof fakeUrl === 'object' && fakeUrl !== null ? fakeUrl : parseFakeUrl(fakeUrl);
  return `${fake.href}/${product}${parsed.pathname}${parsed.search}`;
}

/** The fake's URL from FAKE_TWILIO_URL, else from the ready file `fake-twilio serve` wrote. */
function fakeUrlFromEnv(env) {
  env = env || process.env;
  if (env.FAKE_TWILIO_URL) return env.FAKE_TWILIO_URL;
  const readyFile = env.FAKE_TWILIO_READY_FILE;
  if (readyFile) {
    let info;
    try {
      info = JSON.parse(fs.readFileSync(readyFile, 'utf8'));
    } catch (error) {
      throw new Error(`fake-twilio: cannot read the ready file ${readyFile}: ${error.message}`);
    }
    if (info && info.url) return info.url;
    throw new Error(`fake-twilio: the ready file ${readyFile} holds no "url"`);
  }
  return null;
}

/** The credentials to use: explicit values, then FAKE_TWILIO_* variables, then the defaults. */
function credentials(overrides, env) {
  env = env || process.env;
  const result = {};
  for (const name of Object.keys(DEFAULT_CREDENTIALS)) {
    result[name] =
      (overrides && overrides[name]) || env[CREDENTIAL_ENV[name]] || DEFAULT_CREDENTIALS[name];
  }
  return result;
}

// -- encoding -----------------------------------------------------------------------------------

function encodeValue(value) {
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** Form/query encoding like the SDK's `qs.stringify(x, { arrayFormat: 'repeat' })`. */
function encodeForm(data) {
  const pairs = [];
  const add = (key, value) => {
    if (value === undefined) return;
    if (value === null) {
      pairs.push(`${encodeURIComponent(key)}=`);
    } else if (Array.isArray(value)) {
      value.forEach((item) => add(key, item));
    } else if (typeof value === 'object' && !(value instanceof Date)) {
      Object.keys(value).forEach((sub) => add(`${key}[${sub}]`, value[sub]));
    } else {
      pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(encodeValue(value))}`);
    }
  };
  if (data && typeof data === 'object') Object.keys(data).forEach((key) => add(key, data[key]));
  return pairs.join('&');
}

function headerValue(headers, name) {
  const wanted = name.toLowerCase();
  for (const key of Object.keys(headers || {})) {
    if (key.toLowerCase() === wanted) return headers[key];
  }
  return undefined;
}

function withoutHeader(headers, name) {
  const wanted = name.toLowerCase();
  const result = {};
  for (const key of Object.keys(headers || {})) {
    if (key.toLowerCase() !== wanted && headers[key] !== undefined) result[key] = headers[key];
  }
  return result;
}

/** Like axios' default response transform: JSON when it parses, else the text. */
function parseBody(text) {
  if (typeof text !== 'string' || text === '') return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    return text;
  }
}

// -- the SDK's httpClient ----------------------------------------------------------------------

const originals = {
  httpsRequest: https.request,
  httpsGet: https.get,
  fetch: typeof globalThis.fetch === 'function' ? globalThis.fetch : undefined,
};

function sendRaw(target, method, headers, body, timeout) {
  return new Promise((resolve, reject) => {
    const parsed = new URL(target);
    const transport = parsed.protocol === 'https:' ? originals.httpsRequest : http.request;
    const finalHeaders = Object.assign({}, headers);
    if (body !== undefined && headerValue(finalHeaders, 'content-length') === undefined) {
      finalHeaders['Content-Length'] = Buffer.byteLength(body);
    }
    const req = transport.call(parsed.protocol === 'https:' ? https : http, {
      protocol: parsed.protocol,
      hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
      port: parsed.port || undefined,
      path: parsed.pathname + parsed.search,
      method,
      headers: finalHeaders,
    });
    req.setTimeout(timeout, () => {
      const error = new Error(`timeout of ${timeout}ms exceeded`);
      error.code = 'ECONNABORTED';
      req.destroy(error);
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        resolve({
          statusCode: res.statusCode,
          text: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        });
      });
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * An `httpClient` for `twilio(username, password, { httpClient })` (twilio-node's RequestClient
 * interface: `request(opts)` resolves to `{ statusCode, body, headers }`).
 *
 * Options: `fakeUrl` (default: FAKE_TWILIO_URL or the ready file), `timeout` (ms, default
 * 30000), `autoRetry`/`maxRetries`/`maxRetryDelay` (retry 429 answers with backoff, as v4/v5's
 * client does when asked), `passThrough` (default true: URLs that are not `*.twilio.com` are
 * sent where they point; false rejects them).
 */
class FakeTwilioHttpClient {
  constructor(opts) {
    if (typeof opts === 'string') opts = { fakeUrl: opts };
    opts = opts || {};
    this.fake = parseFakeUrl(opts.fakeUrl || fakeUrlFromEnv());
    this.fakeUrl = this.fake.href;
    this.defaultTimeout = opts.timeout || DEFAULT_TIMEOUT;
    this.autoRetry = Boolean(opts.autoRetry);
    this.maxRetries = opts.maxRetries === undefined ? 3 : opts.maxRetries;
    this.maxRetryDelay = opts.maxRetryDelay === undefined ? 3000 : opts.maxRetryDelay;
    this.passThrough = opts.passThrough !== false;
    this.lastRequest = undefined;
    this.lastResponse = undefined;
    this.requests = 0;
  }

  /** Where a Twilio URL goes on the fake. */
  rewrite(url) {
    return rewriteTwilioUrl(url, this.fake);
  }

  async request(opts) {
    opts = opts || {};
    if (!opts.method) throw new Error('http method is required');
    if (!opts.uri) throw new Error('uri is required');
    const method = String(opts.method).toUpperCase();
    let headers = Object.assign({}, opts.headers || {});

    if (opts.username && opts.password) {
      const basic = Buffer.from(`${opts.username}:${opts.password}`).toString('base64');
      headers.Authorization = `Basic ${basic}`;
    } else if (opts.authStrategy && typeof opts.authStrategy.getAuthString === 'function') {
      headers.Authorization = await opts.authStrategy.getAuthString();
    }

    let target = this.rewrite(opts.uri);
    if (target === opts.uri && !this.passThrough) {
      throw new Error(`fake-twilio: refusing to send a request to ${opts.uri} (not *.twilio.com)`);
    }
    const query = encodeForm(opts.params);
    if (query) target += (target.includes('?') ? '&' : '?') + query;

    let body;
    const hasData = opts.data !== undefined && opts.data !== null && method !== 'GET';
    if (hasData) {
      const contentType = headerValue(headers, 'content-type');
      if (typeof opts.data === 'string' || Buffer.isBuffer(opts.data)) {
        body = opts.data;
      } else if (contentType && /json/i.test(contentType)) {
        body = JSON.stringify(opts.data);
      } else {
        body = encodeForm(opts.data);
      }
      if (!contentType) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    headers = withoutHeader(headers, 'host');

    this.lastResponse = undefined;
    this.lastRequest = {
      method,
      url: opts.uri,
      sentTo: target,
      params: opts.params,
      data: opts.data,
      headers: withoutHeader(headers, 'authorization'),
    };
    if (opts.logLevel === 'debug') {
      console.log('-- BEGIN Twilio API Request (fake-twilio) --');
      console.log(`${method} ${opts.uri} -> ${target}`);
      console.log('-- END Twilio API Request --');
    }

    const timeout = opts.timeout || this.defaultTimeout;
    let raw;
    for (let attempt = 0; ; attempt += 1) {
      this.requests += 1;
      raw = await sendRaw(target, method, headers, body, timeout);
      if (!(this.autoRetry && raw.statusCode === 429 && attempt < this.maxRetries)) break;
      const backoff = Math.min(this.maxRetryDelay, 100 * 2 ** attempt);
      await delay(Math.random() * backoff);
    }
    const response = {
      statusCode: raw.statusCode,
      body: parseBody(raw.text),
      headers: raw.headers,
    };
    if (opts.logLevel === 'debug') {
      console.log(`response.statusCode: ${response.statusCode}`);
    }
    this.lastResponse = response;
    return response;
  }
}

/**
 * A twilio client whose requests all go to the fake.
 *
 *   const twilio = require('twilio');
 *   const client = createClient(twilio, { fakeUrl: 'http://127.0.0.1:8080' });
 *
 * Authenticates with the API key (`auth: 'apiKey'`, the default) or the auth token
 * (`auth: 'authToken'`); `credentials` overrides any of accountSid/authToken/apiKeySid/
 * apiKeySecret; other options go to FakeTwilioHttpClient, `clientOptions` to twilio itself.
 */
function createClient(twilio, opts) {
  opts = opts || {};
  if (typeof twilio !== 'function') {
    throw new Error('fake-twilio: createClient(twilio, opts) needs the twilio module as first argument');
  }
  const creds = credentials(opts.credentials);
  const httpClient = opts.httpClient || new FakeTwilioHttpClient(opts);
  const clientOptions = Object.assign({}, opts.clientOptions, {
    httpClient,
    accountSid: creds.accountSid,
  });
  if (opts.auth === 'authToken') {
    return twilio(creds.accountSid, creds.authToken, clientOptions);
  }
  return twilio(creds.apiKeySid, creds.apiKeySecret, clientOptions);
}

// -- patching https.request / https.get / fetch -------------------------------------------------

let installed = null;

function urlToOptions(url) {
  const options = {
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    hash: url.hash,
    search: url.search,
    pathname: url.pathname,
    path: `${url.pathname || ''}${url.search || ''}`,
    href: url.href,
  };
  if (url.port !== '') options.port = Number(url.port);
  if (url.username || url.password) {
    options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  }
  return options;
}

/** Split `(url?, options?, callback?)` as https.request takes them into options + callback. */
function normalizeArgs(args) {
  let [input, options, callback] = args;
  let merged;
  if (typeof input === 'string' || input instanceof URL) {
    const url = typeof input === 'string' ? new URL(input) : input;
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    merged = Object.assign(urlToOptions(url), options || {});
  } else {
    callback = typeof options === 'function' ? options : callback;
    merged = Object.assign({}, input || {});
  }
  return { options: merged, callback };
}

/** The options to send a request meant for `*.twilio.com` to the fake instead (or null). */
function redirectOptions(options, fake) {
  const host = options.hostname || options.host;
  const product = twilioProduct(host);
  if (!product) return null;
  const originalPath = options.path || '/';
  const redirected = Object.assign({}, options);
  for (const key of ['host', 'agent', 'createConnection', 'servername', 'socketPath', '_defaultAgent']) {
    delete redirected[key];
  }
  if (fake.protocol === 'https:' && options.agent instanceof https.Agent) {
    redirected.agent = options.agent;
  }
  redirected.protocol = fake.protocol;
  redirected.hostname = fake.hostname;
  redirected.port = fake.port;
  redirected.path = `${fake.basePath}/${product}${originalPath.startsWith('/') ? '' : '/'}${originalPath}`;
  if (options.headers && !Array.isArray(options.headers)) {
    redirected.headers = withoutHeader(options.headers, 'host');
  }
  return { options: redirected, from: `https://${hostOnly(host)}${originalPath}` };
}

/**
 * Redirect `https.request`, `https.get` and `fetch` calls for `*.twilio.com` to the fake.
 * Options: `fakeUrl` (default FAKE_TWILIO_URL / FAKE_TWILIO_READY_FILE), `fetch` (default
 * true), `log` (a function called with one line per redirected request; FAKE_TWILIO_DEBUG=1
 * logs to stderr). Returns an object with `uninstall()`. Installing again replaces the target.
 */
function installHttpsPatch(opts) {
  if (typeof opts === 'string') opts = { fakeUrl: opts };
  opts = opts || {};
  const fake = parseFakeUrl(opts.fakeUrl || fakeUrlFromEnv());
  const log =
    opts.log ||
    (process.env.FAKE_TWILIO_DEBUG && process.env.FAKE_TWILIO_DEBUG !== '0'
      ? (line) => process.stderr.write(`[fake-twilio] ${line}\n`)
      : null);
  if (installed) uninstallHttpsPatch();

  function request(...args) {
    const { options, callback } = normalizeArgs(args);
    const redirect = redirectOptions(options, fake);
    if (!redirect) return originals.httpsRequest.apply(https, args);
    if (log) log(`${(options.method || 'GET').toUpperCase()} ${redirect.from} -> ${fake.href}${redirect.options.path.slice(fake.basePath.length)}`);
    const send = fake.protocol === 'https:' ? originals.httpsRequest : http.request;
    const cb = callback ? [callback] : [];
    return send.call(fake.protocol === 'https:' ? https : http, redirect.options, ...cb);
  }

  function get(...args) {
    const req = request(...args);
    req.end();
    return req;
  }

  https.request = request;
  https.get = get;

  let fetchPatched = false;
  if (opts.fetch !== false && typeof originals.fetch === 'function') {
    const realFetch = originals.fetch;
    globalThis.fetch = function fakeTwilioFetch(input, init) {
      const url =
        typeof input === 'string' ? input : input instanceof URL ? input.href : input && input.url;
      const target = url ? rewriteTwilioUrl(url, fake) : url;
      if (!url || target === url) return realFetch(input, init);
      if (log) log(`fetch ${url} -> ${target}`);
      if (typeof input === 'string' || input instanceof URL) return realFetch(target, init);
      return realFetch(new Request(target, input), init);
    };
    fetchPatched = true;
  }
  syncEsm();
  installed = { fakeUrl: fake.href, fetch: fetchPatched, uninstall: uninstallHttpsPatch };
  return installed;
}

/** Undo installHttpsPatch (restores the original functions). */
function uninstallHttpsPatch() {
  https.request = originals.httpsRequest;
  https.get = originals.httpsGet;
  if (originals.fetch) globalThis.fetch = originals.fetch;
  installed = null;
  syncEsm();
}

/** Whether the patch is installed, and where it sends requests: `{ fakeUrl, fetch }` or null. */
function patchStatus() {
  return installed ? { fakeUrl: installed.fakeUrl, fetch: installed.fetch } : null;
}

function syncEsm() {
  // `import { request } from 'https'` in ES modules sees the patched functions too.
  const mod = require('module');
  if (typeof mod.syncBuiltinESMExports === 'function') mod.syncBuiltinESMExports();
}

module.exports = {
  VERSION,
  DEFAULT_CREDENTIALS,
  CREDENTIAL_ENV,
  TWILIO_HOST_RE,
  FakeTwilioHttpClient,
  createClient,
  credentials,
  encodeForm,
  fakeUrlFromEnv,
  installHttpsPatch,
  parseFakeUrl,
  patchStatus,
  rewriteTwilioUrl,
  twilioProduct,
  uninstallHttpsPatch,
};
