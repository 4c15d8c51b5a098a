// A real browser joins a conference (issue 5, item 1; docs/webrtc.md).
//
// Debian's headless Chromium, driven by Playwright (playwright-core, no downloaded browser), opens
// /terminal of a real `plateau serve` and joins a meeting booked through the REST API, together
// with two reference terminals (`plateau terminal`). The browser's camera is Chromium's fake device
// fed from a solid magenta Y4M file, its microphone the fake device's beeps.
//   - the browser decodes >= 100 H.264 frames of the mix and receives Opus (getStats());
//   - a reference terminal sees the browser's tile magenta where the layout puts it;
//   - the mix Chromium shows has each venue's colour (within 8 per channel) in its tile;
//   - the WebSocket is cut mid-call: the page resumes its seat, restarts ICE, and media flows
//     both ways again (more frames decoded; the server counts new packets from the browser).
// Runs in a network namespace with only loopback (tests/browser/run.sh: as root, or in a user
// namespace otherwise).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.PLATEAU_BIN;
const ROOT = process.env.PLATEAU_SOURCE_ROOT;
const CHROMIUM = process.env.PLATEAU_CHROMIUM || '/usr/bin/chromium';
assert.ok(BIN && ROOT, 'PLATEAU_BIN and PLATEAU_SOURCE_ROOT must be set (meson test sets them)');

const CONFIG = path.join(ROOT, 'configs', 'qinghai.toml');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plateau-browser-'));
const data = path.join(dir, 'data');
const children = [];
let browser = null;

after(async () => {
  if (browser) await browser.close().catch(() => {});
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await sleep(300);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (!process.env.PLATEAU_KEEP_TEST_DIR) fs.rmSync(dir, { recursive: true, force: true });
  else console.log(`test files kept in ${dir}`);
});

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Polls `probe` (async, returns a value or null/false) until it returns something truthy or the
// deadline passes; returns the last value either way.
async function waitFor(what, probe, timeoutMs, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    last = await probe();
    if (last && last.done !== false) return last;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
}

function run(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `plateau ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function start(name, args) {
  const log = fs.openSync(path.join(dir, `${name}.log`), 'w');
  const child = spawn(BIN, args, { stdio: ['ignore', log, log] });
  children.push(child);
  return child;
}

function logOf(name) {
  try {
    return fs.readFileSync(path.join(dir, `${name}.log`), 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '';
  }
}

function readReport(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;  // not written yet
  }
}

function hexToRgb(hex) {
  const v = parseInt(hex.replace('#', ''), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function distance(a, b) { return Math.max(...a.map((x, i) => Math.abs(x - b[i]))); }

function utc(secondsFromNow) {
  return new Date(Date.now() + secondsFromNow * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

// The browser venue's packets counted by the engine, from /metrics.
async function packetsFromVenue(base, venue) {
  const text = await (await fetch(`${base}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('plateau_conference_venue_packets_in_total{') && line.includes(`venue="${venue}"`)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

async function keyframeRequests(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('plateau_webrtc_keyframe_requests_total'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const MAGENTA = [255, 0, 255];
const COLOUR_TOLERANCE = 60;  // per channel, after two H.264 encodes and a scale
// Chromium's own mix, per channel: the SPS states BT.601, so a venue's #ff0000 is #ff0000 on the
// page (without the colour description Chromium decoded it as BT.709: #ff1800).
const MIX_COLOUR_TOLERANCE = 8;

// What the page shows: the <video> of the mix drawn into a canvas (Chromium converts the decoded
// frame to sRGB with the colour space the stream states), averaged over 5x5 pixels at the centre
// of each tile of the published layout (solid colour there: captions are at the bottom, the
// terminal's clock at the top left).
async function sampleMix(page) {
  return page.evaluate(() => {
    const video = document.getElementById('mix');
    const layout = window.plateauTerminal.state().layout;
    if (!video || !video.videoWidth || !layout) return null;
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const g = canvas.getContext('2d', { willReadFrequently: true });
    g.drawImage(video, 0, 0);
    const tiles = layout.tiles.map((t) => {
      const cx = Math.round((t.x + t.w / 2) * canvas.width);
      const cy = Math.round((t.y + t.h / 2) * canvas.height);
      const d = g.getImageData(cx - 2, cy - 2, 5, 5).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; ++k) sum[k] += d[i + k];
      const rgb = sum.map((x) => Math.round(x / (d.length / 4)));
      return { venue: t.venue, rgb, hex: '#' + rgb.map((x) => x.toString(16).padStart(2, '0')).join('') };
    });
    return { width: canvas.width, height: canvas.height, layout: layout.layout, tiles };
  });
}

test('a browser joins over WebRTC, sees and hears the mix, is seen, and resumes after a cut', { timeout: 240_000 }, async () => {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const base = `http://127.0.0.1:${port}`;
  const server = start('serve', ['serve', '--config', CONFIG, '--data', data, '--listen', `127.0.0.1:${port}`]);
  await waitFor('the server', async () => {
    if (server.exitCode !== null) throw new Error(`plateau serve exited ${server.exitCode}:\n${logOf('serve')}`);
    try {
      return (await fetch(`${base}/healthz`)).ok;
    } catch {
      return false;
    }
  }, 30_000);

  // A meeting of three venues, open now (it starts in a minute; the set-up buffer is open).
  const venues = { browser: 'minhe', red: 'datong', blue: 'huangzhong' };
  const booking = await fetch(`${base}/api/v1/bookings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      title: '浏览器终端入会测试', organiser: '省政府办公厅', region: 'hub',
      start: utc(60), end: utc(3600), setup_minutes: 15,
      venues: [venues.red, venues.blue, venues.browser], main_venue: venues.red, profile: 'hd-2m',
      // Every venue on the hub's MCU: with cascade auto Xining's MCU would host datong and
      // huangzhong and send only its speaker up (docs/cascade.md), and the mix check below wants
      // every venue's tile.
      cascade: 'off',
    }),
  });
  const bookingBody = await booking.json();
  assert.equal(booking.status, 201, JSON.stringify(bookingBody));
  const number = bookingBody.conference_number;
  const token = (venue) => run(['venue-token', venue, '--config', CONFIG, '--data', data]);

  // Two reference terminals: red with 440 Hz, blue with 660 Hz.
  const wsUrl = `ws://127.0.0.1:${port}/ws`;
  const redReport = path.join(dir, 'red.json');
  start('red', ['terminal', '--server', wsUrl, '--venue', venues.red, '--token', token(venues.red),
    '--conference', number, '--color', '#ff0000', '--tone', '440', '--seconds', '200',
    '--stats-json', redReport, '--stats-interval', '0.5']);
  start('blue', ['terminal', '--server', wsUrl, '--venue', venues.blue, '--token', token(venues.blue),
    '--conference', number, '--color', '#0000ff', '--tone', '660', '--seconds', '200',
    '--stats-json', path.join(dir, 'blue.json'), '--stats-interval', '1']);

  // The browser's camera: a solid magenta clip (Chromium loops it).
  const y4m = path.join(dir, 'magenta.y4m');
  const gst = spawnSync('gst-launch-1.0', ['-q', 'videotestsrc', 'pattern=solid-color',
    'foreground-color=0xffff00ff', 'num-buffers=30', '!',
    'video/x-raw,width=640,height=360,framerate=30/1,format=I420', '!', 'y4menc', '!',
    'filesink', `location=${y4m}`], { encoding: 'utf8' });
  assert.equal(gst.status, 0, `gst-launch-1.0 (gstreamer1.0-tools): ${gst.stderr}`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
      `--use-file-for-fake-video-capture=${y4m}`],
  });
  const page = await browser.newPage();
  const pageLog = [];
  page.on('console', (m) => pageLog.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => pageLog.push(`[pageerror] ${e.message}`));
  const query = new URLSearchParams({ venue: venues.browser, token: token(venues.browser), conference: number, autojoin: '1' });
  const openedAt = Date.now();
  await page.goto(`${base}/terminal?${query}`);
  assert.equal(await page.title(), 'Plateau 视频会议 · 浏览器终端');

  const stats = () => page.evaluate(() => window.plateauTerminal.stats());
  const pageState = () => page.evaluate(() => window.plateauTerminal.state());
  const diagnose = async () => `page: ${JSON.stringify(await pageState())}\n${pageLog.slice(-20).join('\n')}\n` +
    `--- serve log:\n${logOf('serve')}`;

  // 1. The browser decodes the mix (H.264) and receives Opus.
  let s;
  try {
    s = await waitFor('>= 100 H.264 frames and Opus in the browser', async () => {
      const v = await stats();
      const ok = v && v.video && v.audio && v.video.codec === 'video/H264' && v.video.framesDecoded >= 100 &&
        v.audio.codec === 'audio/opus' && v.audio.packetsReceived > 0;
      return ok ? v : { done: false, v };
    }, 60_000);
  } catch (e) {
    throw new Error(`${e.message}\n${await diagnose()}`);
  }
  assert.equal(s.video.codec, 'video/H264');
  assert.ok(s.video.framesDecoded >= 100, JSON.stringify(s));
  assert.equal(s.audio.codec, 'audio/opus');
  assert.ok(s.audio.packetsReceived > 0, JSON.stringify(s));
  const st = await pageState();
  assert.equal(st.conference, number);
  assert.deepEqual([...st.participants].sort(), Object.values(venues).sort());
  console.log(`browser: ${s.video.framesDecoded} H.264 frames (${s.video.frameWidth}x${s.video.frameHeight}), ` +
    `${s.audio.packetsReceived} Opus packets, ${Date.now() - openedAt} ms after the page opened`);

  // 2. A reference terminal sees the browser's tile, magenta, where the layout puts it.
  let report;
  try {
    report = await waitFor('the browser\'s tile at the red terminal', async () => {
      const r = readReport(redReport);
      const tile = r && (r.tiles || []).find((t) => t.venue === venues.browser && t.rgb);
      return tile && distance(hexToRgb(tile.rgb), MAGENTA) <= COLOUR_TOLERANCE ? r : { done: false, tiles: r && r.tiles };
    }, 30_000);
  } catch (e) {
    throw new Error(`${e.message}\n--- red terminal:\n${logOf('red')}\n${await diagnose()}`);
  }
  const tile = report.tiles.find((t) => t.venue === venues.browser);
  assert.ok(Math.max(...hexToRgb(tile.rgb)) > 100, `the browser's tile is black: ${JSON.stringify(tile)}`);
  if (process.env.PLATEAU_SCREENSHOT) await page.screenshot({ path: process.env.PLATEAU_SCREENSHOT });
  console.log(`red terminal: the browser's tile ${JSON.stringify(tile)} in layout ${report.layout}`);

  // 3. Chromium's own mix: each venue's tile within 8 per channel of the colour it sent.
  const sent = { [venues.red]: [255, 0, 0], [venues.blue]: [0, 0, 255], [venues.browser]: MAGENTA };
  let mix;
  try {
    mix = await waitFor('each venue\'s colour in the mix Chromium shows', async () => {
      const m = await sampleMix(page);
      const ok = m && Object.keys(sent).every((venue) => {
        const t = m.tiles.find((x) => x.venue === venue);
        return t && distance(t.rgb, sent[venue]) <= MIX_COLOUR_TOLERANCE;
      });
      return ok ? m : { done: false, mix: m };
    }, 15_000);
  } catch (e) {
    throw new Error(`${e.message}\n${await diagnose()}`);
  }
  console.log(`Chromium's mix (${mix.width}x${mix.height}, ${mix.layout}): ` +
    mix.tiles.map((t) => `${t.venue} ${t.hex}`).join(', '));

  // Raise hand: the click goes to the server, the page shows the confirmed ✋, and the red
  // reference terminal (another client) records the browser's hand.
  await page.click('#hand');
  try {
    await waitFor('the browser\'s raised hand confirmed by the server', async () => {
      const p = await pageState();
      return p.hands.includes(venues.browser) ? p : { done: false, hands: p.hands };
    }, 10_000, 100);
    await waitFor('the red terminal sees the browser\'s hand', async () => {
      const r = readReport(redReport);
      const who = r && (r.participants || []).find((x) => x.venue === venues.browser);
      return who && who.hand ? r : { done: false, participants: r && r.participants };
    }, 10_000);
  } catch (e) {
    throw new Error(`${e.message}\n--- red terminal:\n${logOf('red')}\n${await diagnose()}`);
  }
  assert.equal(await page.textContent('#hand'), '放下手');
  console.log('raise hand: confirmed to the page and seen by the red terminal');

  // Keyframe requests cross webrtcbin both ways: PLIs the browser sent reached the engine; PLIs
  // the engine asked for reached the browser (each only if one was needed during the call).
  const kf = await keyframeRequests(base);
  const now = await stats();
  if (now.video.pliCount > 0) assert.ok(kf > 0, `the browser sent ${now.video.pliCount} PLIs, the server saw none`);
  console.log(`keyframe requests: browser sent ${now.video.pliCount} PLI, server received ${kf}; ` +
    `browser received ${now.sent.pliCount} PLI + ${now.sent.firCount} FIR`);

  // 4. Cut the WebSocket: the page resumes its seat, restarts ICE, media flows again.
  const before = await stats();
  const packetsBefore = await packetsFromVenue(base, venues.browser);
  const cutAt = Date.now();
  await page.evaluate(() => window.plateauTerminal.dropConnection());
  try {
    await waitFor('the seat resumed and ICE restarted', async () => {
      const p = await pageState();
      return p.seated && p.counters.resumes >= 1 && p.counters.iceRestarts >= 1 && p.counters.answers >= 2 ? p : { done: false, p };
    }, 15_000, 100);
  } catch (e) {
    throw new Error(`${e.message}\n${await diagnose()}`);
  }
  const resumedMs = Date.now() - cutAt;
  // Frames keep being decoded after the restart (counted across a stats object that may restart).
  let decodedSince = 0;
  let last = before.video.framesDecoded;
  const afterStats = await waitFor('60 more frames after the ICE restart', async () => {
    const v = await stats();
    if (!v || !v.video) return { done: false };
    const cur = v.video.framesDecoded;
    decodedSince += cur >= last ? cur - last : cur;
    last = cur;
    return decodedSince >= 60 ? v : { done: false, decodedSince, v };
  }, 20_000);
  const packetsAfter = await waitFor('packets from the browser after the ICE restart', async () => {
    const n = await packetsFromVenue(base, venues.browser);
    return n > packetsBefore + 200 ? n : { done: false, n };
  }, 20_000);
  const p = await pageState();
  assert.equal(p.connectionState, 'connected');
  // ICE really restarted: the browser selected a new candidate pair (new credentials both ways).
  assert.ok(afterStats.transport.selectedCandidatePairChanges > before.transport.selectedCandidatePairChanges,
    `no new candidate pair after the ICE restart: ${JSON.stringify([before.transport, afterStats.transport])}`);
  assert.equal(p.seat, st.seat, 'the same seat after the resume');
  assert.ok(p.hands.includes(venues.browser), `the raised hand was lost in the resume: ${JSON.stringify(p.hands)}`);
  assert.equal(await page.textContent('#hand'), '放下手');
  console.log(`resume: seat ${p.seat} again and ICE restarted ${resumedMs} ms after the cut; ` +
    `${decodedSince} frames decoded since (${afterStats.video.framesDecoded} on the current stream); ` +
    `server counted ${packetsAfter - packetsBefore} packets from the browser since the cut`);
});
