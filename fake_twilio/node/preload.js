'use strict';
/*
 * Preload module: `node -r /path/to/fake_twilio/node/preload.js app.js`
 * (or NODE_OPTIONS="--require /path/to/fake_twilio/node/preload.js").
 *
 * Sends every https.request / https.get / fetch aimed at `*.twilio.com` to the fake named by
 * FAKE_TWILIO_URL (else by the `url` in the ready file FAKE_TWILIO_READY_FILE). Nothing else is
 * touched. It refuses to load without one of them, so that an application meant to run against
 * the fake never reaches the real Twilio by accident. FAKE_TWILIO_DEBUG=1 logs each redirect;
 * FAKE_TWILIO_PATCH_FETCH=0 leaves `fetch` alone.
 */

const fake = require('./index');

const fakeUrl = fake.fakeUrlFromEnv(process.env);
if (!fakeUrl) {
  throw new Error(
    'fake-twilio preload: set FAKE_TWILIO_URL (e.g. http://127.0.0.1:8080) or ' +
      'FAKE_TWILIO_READY_FILE (the file `fake-twilio serve --ready-file` writes)'
  );
}

fake.installHttpsPatch({
  fakeUrl,
  fetch: process.env.FAKE_TWILIO_PATCH_FETCH !== '0',
});
