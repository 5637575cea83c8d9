'use strict';
/*
 * Checks of fake_twilio/node/index.js that need node only (no twilio package), against a running
 * fake: URL rewriting, form encoding, FakeTwilioHttpClient on its own (auth, params, JSON body
 * parsing, 429 auto-retry), and the https patch leaving other hosts alone.
 * Env: FAKE_TWILIO_URL, FAKE_TWILIO_NODE. Prints JSON on stdout.
 */

const https = require('https');
const fake = require(process.env.FAKE_TWILIO_NODE);

const fakeUrl = process.env.FAKE_TWILIO_URL;
const originalRequest = https.request;
const originalGet = https.get;
const creds = fake.credentials();

async function main() {
  const out = {};
  out.rewrites = [
    'https://video.twilio.com/v1/Rooms?Status=completed',
    'https://media.dublin.ie1.twilio.com/v1/PlayerStreamers',
    'https://SYNC.twilio.com/v1/Services',
    'https://example.com/v1/Rooms',
    'https://video.twilio.com.example.com/v1/Rooms',
    'https://sync.twilio.com/v1/Services/IS1/Maps/m/Items/a%2Fb%3Fc%23d%25%C3%BC',
  ].map((url) => fake.rewriteTwilioUrl(url, 'http://127.0.0.1:9/prefix/'));
  out.form = fake.encodeForm({ A: [1, 2], B: 'x y&z', C: undefined, D: true, E: { F: 'g' } });
  out.products = ['video.twilio.com', 'media.us1.twilio.com:443', 'api.example.com'].map(
    fake.twilioProduct
  );

  const client = new fake.FakeTwilioHttpClient({ fakeUrl, autoRetry: true, maxRetryDelay: 50 });
  const listed = await client.request({
    method: 'get',
    uri: 'https://video.twilio.com/v1/Rooms',
    username: creds.accountSid,
    password: creds.authToken,
    params: { Status: 'in-progress', PageSize: 5 },
  });
  out.list = {
    statusCode: listed.statusCode,
    bodyType: typeof listed.body,
    key: listed.body.meta && listed.body.meta.key,
    url: listed.body.meta && listed.body.meta.url,
    contentType: listed.headers['content-type'],
    lastRequest: client.lastRequest.sentTo,
  };

  const denied = await client.request({
    method: 'GET',
    uri: 'https://video.twilio.com/v1/Rooms',
    username: creds.accountSid,
    password: 'wrong',
  });
  out.denied = { statusCode: denied.statusCode, code: denied.body.code };

  // A 429 fault once: the client retries (autoRetry) and gets the room.
  await client.request({
    method: 'POST',
    uri: `${fakeUrl}/_fake/faults`,
    headers: { 'Content-Type': 'application/json' },
    data: { action: 'error', product: 'video', method: 'POST', code: 20429, status: 429, times: 1 },
  });
  const before = client.requests;
  const created = await client.request({
    method: 'post',
    uri: 'https://video.twilio.com/v1/Rooms',
    // v5 passes an authStrategy instead of username/password for some credential types.
    authStrategy: {
      getAuthString: async () =>
        'Basic ' + Buffer.from(`${creds.apiKeySid}:${creds.apiKeySecret}`).toString('base64'),
    },
    data: { UniqueName: 'module-checks', Type: 'go' },
  });
  out.retried = {
    statusCode: created.statusCode,
    attempts: client.requests - before,
    uniqueName: created.body.unique_name,
    type: created.body.type,
  };

  // The https patch: *.twilio.com goes to the fake, other hosts are untouched.
  fake.installHttpsPatch({ fakeUrl });
  out.patchStatus = fake.patchStatus();
  out.twilioHost = await new Promise((resolve) => {
    https
      .get('https://video.twilio.com/v1/Rooms', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', (error) => resolve(`error ${error.code}`));
  });
  out.otherHost = await new Promise((resolve) => {
    https
      .get('https://127.0.0.1:1/v1/Rooms', (res) => {
        res.resume();
        resolve(`answered ${res.statusCode}`);
      })
      .on('error', (error) => resolve(error.code));
  });
  fake.uninstallHttpsPatch();
  out.afterUninstall = {
    status: fake.patchStatus(),
    restored: https.request === originalRequest && https.get === originalGet,
  };

  try {
    new fake.FakeTwilioHttpClient({ fakeUrl: 'ftp://nope' });
    out.badUrl = null;
  } catch (error) {
    out.badUrl = error.message;
  }
  try {
    fake.createClient({});
    out.badCreateClient = null;
  } catch (error) {
    out.badCreateClient = error.message;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((error) => {
  process.stderr.write(`module_checks failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
