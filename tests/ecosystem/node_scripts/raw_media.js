'use strict';
/*
 * A backend's raw HTTPS calls to media.twilio.com (the original backend used axios there),
 * run with `node -r fake_twilio/node/preload.js raw_media.js`: https.request, https.get, axios
 * (when installed: NODE_PATH) and fetch, all aimed at the real host names.
 * Env: FAKE_TWILIO_NODE, FAKE_TWILIO_ACCOUNT_SID/..., NODE_PATH. Prints JSON on stdout.
 */

const https = require('https');
const fake = require(process.env.FAKE_TWILIO_NODE);

const creds = fake.credentials();
const auth = 'Basic ' + Buffer.from(`${creds.apiKeySid}:${creds.apiKeySecret}`).toString('base64');

function call(method, url, form) {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const headers = { Authorization: auth, Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    // A keep-alive https.Agent, as axios and the twilio SDK pass one.
    const agent = new https.Agent({ keepAlive: false });
    const req = https.request(url, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function get(url) {
  return new Promise((resolve, reject) => {
    https
      .get(
        {
          hostname: 'media.twilio.com',
          path: new URL(url).pathname + new URL(url).search,
          headers: { Authorization: auth },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
        }
      )
      .on('error', reject);
  });
}

async function main() {
  const out = { patch: fake.patchStatus() };
  const created = await call('POST', 'https://media.twilio.com/v1/PlayerStreamers', {
    Video: 'true',
    MaxDuration: '300',
  });
  out.created = { status: created.status, sid: created.body.sid, streamerStatus: created.body.status };
  const sid = created.body.sid;

  const fetched = await get(`https://media.twilio.com/v1/PlayerStreamers/${sid}`);
  out.fetched = { status: fetched.status, sid: fetched.body.sid };

  const listed = await get('https://media.us1.twilio.com/v1/PlayerStreamers?PageSize=50');
  out.listed = {
    status: listed.status,
    sids: (listed.body.player_streamers || []).map((s) => s.sid),
  };

  let axios = null;
  try {
    axios = require('axios');
    if (axios.default) axios = axios.default;
  } catch (error) {
    axios = null;
  }
  if (axios) {
    const response = await axios.post(
      `https://media.twilio.com/v1/PlayerStreamers/${sid}`,
      'Status=ended',
      {
        headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' },
        validateStatus: () => true,
      }
    );
    out.axiosEnded = { status: response.status, streamerStatus: response.data.status };
  }

  if (typeof fetch === 'function') {
    const response = await fetch(`https://media.twilio.com/v1/PlayerStreamers/${sid}`, {
      headers: { Authorization: auth },
    });
    const body = await response.json();
    out.fetchAfter = { status: response.status, streamerStatus: body.status };
  }

  const unauthorized = await new Promise((resolve, reject) => {
    https
      .get('https://media.twilio.com/v1/PlayerStreamers', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
  out.unauthorized = unauthorized;

  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((error) => {
  process.stderr.write(`raw_media failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
