'use strict';
/*
 * Drives a fake-twilio server with the official twilio package, the way the Live Interactive
 * Video backend does. Run by tests/ecosystem/test_node_sdk.py:
 *
 *   node sdk_scenario.js <httpClient|preload> <full|smoke>
 *
 * httpClient: a client built with the fake module's FakeTwilioHttpClient.
 * preload:    a plain twilio client (its own axios RequestClient); run with `-r preload.js`.
 * Env: FAKE_TWILIO_URL (or FAKE_TWILIO_READY_FILE), FAKE_TWILIO_NODE (directory of fake_twilio/node), NODE_PATH (where
 * `twilio` is installed), RUN_ID (to keep names unique). Prints one JSON object on stdout.
 */

const http = require('http');
const twilio = require('twilio');
const fake = require(process.env.FAKE_TWILIO_NODE);

const mode = process.argv[2] || 'httpClient';
const depth = process.argv[3] || 'full';
const runId = process.env.RUN_ID || String(Date.now());
const creds = fake.credentials();
const fakeUrl = fake.fakeUrlFromEnv(); // FAKE_TWILIO_URL, else the ready file

const client =
  mode === 'preload'
    ? twilio(creds.apiKeySid, creds.apiKeySecret, { accountSid: creds.accountSid })
    : fake.createClient(twilio, { fakeUrl });

function controlPost(path, body) {
  // The fake's control plane, over plain http (not *.twilio.com: never redirected).
  const target = new URL(fakeUrl.replace(/\/+$/, '') + path);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text || 'null') }));
      }
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function videoToken(identity, room) {
  const AccessToken = twilio.jwt.AccessToken;
  const token = new AccessToken(creds.accountSid, creds.apiKeySid, creds.apiKeySecret, {
    identity,
    ttl: 3600,
  });
  token.addGrant(new AccessToken.VideoGrant({ room }));
  return token.toJwt();
}

async function main() {
  const out = { version: require('twilio/package.json').version, mode, depth };

  // -- Video: create, fetch, list (two pages), a participant with a Node-made token, end.
  const uniqueName = `node-${mode}-${depth}-${runId}`;
  const room = await client.video.v1.rooms.create({ uniqueName, type: 'group', maxParticipants: 10 });
  out.room = { sid: room.sid, status: room.status, uniqueName: room.uniqueName, type: room.type };

  const token = videoToken('alice', uniqueName);
  const connected = await controlPost('/_fake/video/connect', { token, room: uniqueName });
  out.connect = { status: connected.status, identity: connected.body.identity, sid: connected.body.sid };

  if (depth === 'full') {
    const fetched = await client.video.v1.rooms(room.sid).fetch();
    out.fetched = { sid: fetched.sid, status: fetched.status };
    const second = await client.video.v1.rooms.create({ uniqueName: `${uniqueName}-b` });
    const listed = await client.video.v1.rooms.list({ status: 'in-progress', pageSize: 1 });
    out.listed = listed.map((r) => r.sid);
    out.secondRoom = second.sid;
    const participants = await client.video.v1.rooms(room.sid).participants.list({ status: 'connected' });
    out.participants = participants.map((p) => p.identity);
    await client.video.v1.rooms(second.sid).update({ status: 'completed' });

    const bad = await controlPost('/_fake/video/connect', {
      token: videoToken('mallory', 'another-room'),
      room: uniqueName,
    });
    out.wrongRoomToken = { status: bad.status, code: bad.body.code };
  }

  const ended = await client.video.v1.rooms(room.sid).update({ status: 'completed' });
  out.ended = { status: ended.status, duration: ended.duration };

  try {
    await client.video.v1.rooms('RM00000000000000000000000000000000').fetch();
    out.missingRoom = null;
  } catch (error) {
    out.missingRoom = { status: error.status, code: error.code };
  }

  if (depth === 'full') {
    // -- Sync: a service, a map, an item created then updated.
    const service = await client.sync.v1.services.create({ friendlyName: `node ${runId}` });
    const map = await client.sync.v1.services(service.sid).syncMaps.create({ uniqueName: 'streams' });
    const item = await client.sync.v1
      .services(service.sid)
      .syncMaps(map.sid)
      .syncMapItems.create({ key: 'stream-1', data: { status: 'created', viewers: 0 } });
    const updated = await client.sync.v1
      .services(service.sid)
      .syncMaps(map.sid)
      .syncMapItems('stream-1')
      .update({ data: { status: 'started', viewers: 2 } });
    out.sync = {
      service: service.sid,
      map: map.sid,
      created: item.data,
      updated: updated.data,
      revisions: [item.revision, updated.revision],
    };

    // -- Conversations: a conversation and a participant.
    const conversation = await client.conversations.v1.conversations.create({
      friendlyName: 'chat',
      uniqueName: `chat-${runId}`,
    });
    const participant = await client.conversations.v1
      .conversations(conversation.sid)
      .participants.create({ identity: 'alice' });
    out.conversation = {
      sid: conversation.sid,
      participant: participant.sid,
      identity: participant.identity,
    };

    // -- Media v1 through client.request (the only way with v5; v3/v4 also have typed resources).
    const created = await client.request({
      method: 'post',
      uri: 'https://media.twilio.com/v1/PlayerStreamers',
      data: { Video: 'true' },
    });
    const body = typeof created.body === 'string' ? JSON.parse(created.body) : created.body;
    out.playerStreamer = { statusCode: created.statusCode, sid: body.sid, status: body.status };
  }

  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((error) => {
  process.stderr.write(`scenario failed: ${error && error.stack ? error.stack : error}\n`);
  if (error && error.status) process.stderr.write(`status ${error.status} code ${error.code}\n`);
  process.exit(1);
});
