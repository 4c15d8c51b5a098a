// Plateau browser terminal: a venue joins a conference from a browser.
// Signaling: protocol v1 over the WebSocket at /ws (docs/signaling.md). Media: one
// RTCPeerConnection (BUNDLE, rtcp-mux, trickle ICE) answered by the server's webrtcbin
// (docs/webrtc.md): the camera and microphone go up, the conference mix comes down.
// A dropped WebSocket is resumed with the resume token (same seat), then ICE restarts.
'use strict';

const HEARTBEAT_GRACE_MS = 30000;  // the server holds a dropped seat this long
const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000];

const $ = (id) => document.getElementById(id);

const state = {
  venue: '', token: '', conference: '',
  ws: null,
  wantConnected: false,  // false after leave/ended: no reconnect
  registered: false,
  resumeToken: null,
  seated: false,
  joinPending: false,  // a `join` is out, its `joined`/`error` not back yet
  joined: null,  // the last `joined` message
  participants: new Map(),  // venue -> {name, seat, connected, hand}
  layout: null, speaker: null, mutedVenues: new Set(),
  pc: null, localStream: null, remoteDescriptionSet: false, pendingCandidates: [],
  messageId: 0,
  reconnectAttempt: 0, droppedAt: 0,
  micMuted: false, cameraOff: false,
  handRaised: false,  // as the server last confirmed it (`hand` / `joined`)
  counters: { resumes: 0, iceRestarts: 0, offers: 0, answers: 0, errors: 0 },
  lastError: null,
};

// ---- UI helpers ----

function setStatus(text, kind) {
  const s = $('status');
  s.textContent = text;
  s.className = 'pill' + (kind ? ' ' + kind : '');
}

function log(text, isError) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString('zh-CN', { hour12: false })} ${text}`;
  if (isError) li.className = 'error';
  const list = $('log');
  list.prepend(li);
  while (list.children.length > 100) list.lastChild.remove();
}

function renderParticipants() {
  const ul = $('participants');
  ul.replaceChildren();
  const sorted = [...state.participants.entries()].sort((a, b) => a[1].seat - b[1].seat);
  for (const [venue, p] of sorted) {
    const li = document.createElement('li');
    li.textContent = `${p.seat}. ${p.name || venue}${venue === state.venue ? '（本会场）' : ''}`;
    if (!p.connected) li.className = 'away';
    if (venue === state.speaker) li.classList.add('speaker');
    if (p.hand) {
      const b = document.createElement('span');
      b.className = 'hand';
      b.title = '举手（请求发言）';
      b.textContent = '✋';
      li.append(b);
    }
    if (state.mutedVenues.has(venue)) {
      const b = document.createElement('span');
      b.className = 'badge';
      b.textContent = '已静音';
      li.append(b);
    }
    if (!p.connected) {
      const b = document.createElement('span');
      b.className = 'badge';
      b.textContent = '掉线';
      li.append(b);
    }
    ul.append(li);
  }
}

function renderTiles() {
  const box = $('tiles');
  box.replaceChildren();
  $('layout-name').textContent = state.layout ? `布局 ${state.layout.layout}` : '';
  if (!state.layout) return;
  for (const t of state.layout.tiles) {
    const d = document.createElement('div');
    d.className = 'tile' + (t.venue === state.speaker ? ' speaker' : '');
    d.style.left = `${t.x * 100}%`;
    d.style.top = `${t.y * 100}%`;
    d.style.width = `${t.w * 100}%`;
    d.style.height = `${t.h * 100}%`;
    const label = document.createElement('span');
    const p = state.participants.get(t.venue);
    label.textContent = p && p.name ? p.name : t.venue;
    d.append(label);
    box.append(d);
  }
}

function setControls(inCall) {
  for (const id of ['mute', 'camera', 'hand', 'leave']) $(id).disabled = !inCall;
  $('join').disabled = inCall;
}

// ---- signaling ----

function send(message) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
  state.ws.send(JSON.stringify(message));
  return true;
}

function sendJoin(conference) {
  state.joinPending = send({ type: 'join', id: nextId(), conference });
}

function nextId() {
  state.messageId += 1;
  return `m${state.messageId}`;
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  state.ws = ws;
  state.registered = false;
  setStatus(state.resumeToken ? '正在恢复连接…' : '正在连接…', 'warn');
  ws.onopen = () => {
    const hello = { type: 'hello', id: nextId(), venue: state.venue, token: state.token,
                    client: 'plateau-web-terminal/1' };
    if (state.resumeToken) hello.resume = state.resumeToken;
    send(hello);
  };
  ws.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (e) {
      log('收到无法解析的消息', true);
      return;
    }
    handle(message).catch((e) => log(`处理 ${message.type} 出错：${e.message}`, true));
  };
  ws.onclose = (event) => {
    if (state.ws !== ws) return;
    state.ws = null;
    state.registered = false;
    state.joinPending = false;
    if (!state.wantConnected) {
      setStatus('未连接');
      return;
    }
    if (!state.droppedAt) state.droppedAt = Date.now();
    const away = Date.now() - state.droppedAt;
    if (away > HEARTBEAT_GRACE_MS) {
      state.resumeToken = null;  // the seat is gone; start afresh
    }
    const delay = RECONNECT_DELAYS_MS[Math.min(state.reconnectAttempt, RECONNECT_DELAYS_MS.length - 1)];
    state.reconnectAttempt += 1;
    log(`信令连接中断（${event.code}${event.reason ? ' ' + event.reason : ''}），${delay} 毫秒后重连`, true);
    setStatus('连接中断，正在恢复…', 'warn');
    setTimeout(() => { if (state.wantConnected && !state.ws) connect(); }, delay);
  };
}

async function handle(m) {
  switch (m.type) {
    case 'registered':
      state.registered = true;
      state.resumeToken = m.resume_token;
      state.reconnectAttempt = 0;
      state.droppedAt = 0;
      if (m.resumed) {
        state.counters.resumes += 1;
        log('已恢复原会话，等待恢复席位');
        setStatus('已恢复', 'ok');
      } else {
        if (state.seated) {
          // The old seat was released (grace expired): start over.
          log('原席位已释放，重新入会', true);
          state.seated = false;
          closePeer();
        }
        setStatus('已注册', 'ok');
        log(`已注册为 ${m.name}（${m.venue}）`);
        if (state.conference) sendJoin(state.conference);
        else setStatus('等待会议邀请', 'ok');
      }
      break;
    case 'invite':
      log(`收到会议邀请：${m.title}（会议号 ${m.conference}）`);
      if (!state.seated && !state.joinPending) sendJoin(m.conference);
      break;
    case 'joined':
      state.joinPending = false;
      onJoined(m);
      if (state.pc && state.pc.connectionState !== 'closed') {
        if (m.resumed) await restartIce();  // the same seat: keep the peer connection
      } else {
        await startMedia();
      }
      break;
    case 'participant': {
      const p = m.participant;
      if (m.event === 'left') state.participants.delete(p.venue);
      else state.participants.set(p.venue, participantEntry(p));
      const words = { joined: '加入', left: '离开', away: '掉线', back: '恢复' };
      log(`${p.name || p.venue} ${words[m.event] || m.event}`);
      renderParticipants();
      renderTiles();
      break;
    }
    case 'layout':
      state.layout = { layout: m.layout, tiles: m.tiles };
      renderTiles();
      break;
    case 'speaker':
      state.speaker = m.venue;
      renderParticipants();
      renderTiles();
      break;
    case 'muted':
      if (m.muted) state.mutedVenues.add(m.venue);
      else state.mutedVenues.delete(m.venue);
      if (m.venue === state.venue) log(m.muted ? '主持人已将本会场静音' : '主持人已取消本会场静音');
      renderParticipants();
      break;
    case 'hand': {
      const p = state.participants.get(m.venue);
      if (p) p.hand = m.raised;
      if (m.venue === state.venue) {
        setHandRaised(m.raised);
      } else {
        log(`${(p && p.name) || m.venue} ${m.raised ? '举手' : '放下手'}`);
      }
      renderParticipants();
      break;
    }
    case 'answer':
      state.counters.answers += 1;
      await state.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      state.remoteDescriptionSet = true;
      for (const c of state.pendingCandidates.splice(0)) await addRemoteCandidate(c);
      break;
    case 'offer': {  // server-initiated renegotiation
      if (!state.pc) break;
      await state.pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      state.remoteDescriptionSet = true;
      const answer = await state.pc.createAnswer();
      await state.pc.setLocalDescription(answer);
      send({ type: 'answer', sdp: answer.sdp });
      break;
    }
    case 'candidate':
      if (!state.pc) break;
      if (!state.remoteDescriptionSet) state.pendingCandidates.push(m.candidate);
      else await addRemoteCandidate(m.candidate);
      break;
    case 'ping':
      send(m.ts === undefined ? { type: 'pong' } : { type: 'pong', ts: m.ts });
      break;
    case 'pong':
      break;
    case 'ended':
      log(`会议已结束（${({ time: '到时', cancelled: '已取消', operator: '主持人结束' })[m.reason] || m.reason}）`);
      leaveCall('会议已结束');
      break;
    case 'left':
      log('已离开会议');
      break;
    case 'error':
      state.counters.errors += 1;
      state.lastError = m;
      state.joinPending = false;
      log(`错误 ${m.code}：${m.message}`, true);
      if (m.code === 'unauthorized') {
        state.wantConnected = false;
        setStatus('令牌无效', 'bad');
        setControls(false);
      } else if (['not_started', 'not_invited', 'ended', 'unknown_conference'].includes(m.code)) {
        setStatus('无法入会', 'bad');
      }
      break;
    default:
      break;
  }
}

function participantEntry(p) {
  return { name: p.name, seat: p.seat, connected: p.connected, hand: Boolean(p.hand) };
}

// The hand button shows what the server confirmed, not what was clicked.
function setHandRaised(raised) {
  state.handRaised = raised;
  $('hand').textContent = raised ? '放下手' : '举手';
  $('hand').classList.toggle('on', raised);
}

function onJoined(m) {
  state.seated = true;
  state.joined = m;
  state.participants.clear();
  for (const p of m.participants) state.participants.set(p.venue, participantEntry(p));
  // The picture and the speaker as they are now (a late joiner learns them here).
  if (Array.isArray(m.tiles) && m.tiles.length) state.layout = { layout: m.layout, tiles: m.tiles };
  if (m.speaker) state.speaker = m.speaker;
  const self = state.participants.get(state.venue);
  setHandRaised(Boolean(self && self.hand));
  $('conference-title').textContent = `${m.title} · 会议号 ${m.conference} · 席位 ${m.seat}`;
  setStatus(m.resumed ? '已恢复席位' : '已入会', 'ok');
  log(m.resumed ? `已恢复席位 ${m.seat}` : `已加入会议「${m.title}」，席位 ${m.seat}`);
  setControls(true);
  renderParticipants();
  renderTiles();
}

// ---- media ----

async function addRemoteCandidate(candidate) {
  try {
    // null = end of candidates.
    await state.pc.addIceCandidate(candidate === null ? null : candidate);
  } catch (e) {
    log(`ICE 候选地址无效：${e.message}`, true);
  }
}

async function ensureLocalMedia() {
  if (state.localStream) return state.localStream;
  state.localStream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true },
    video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } },
  });
  $('self').srcObject = state.localStream;
  applyMute();
  return state.localStream;
}

function preferH264(transceiver) {
  // The server answers with H.264 (packetization-mode 1) only: offer it first.
  const caps = RTCRtpReceiver.getCapabilities && RTCRtpReceiver.getCapabilities('video');
  if (!caps || !transceiver.setCodecPreferences) return;
  const h264 = caps.codecs.filter((c) => c.mimeType.toLowerCase() === 'video/h264' &&
                                         /packetization-mode=1/.test(c.sdpFmtpLine || ''));
  if (h264.length === 0) return;
  const rest = caps.codecs.filter((c) => !h264.includes(c));
  transceiver.setCodecPreferences([...h264, ...rest]);
}

function closePeer() {
  if (state.pc) {
    state.pc.onicecandidate = null;
    state.pc.ontrack = null;
    state.pc.onconnectionstatechange = null;
    state.pc.close();
  }
  state.pc = null;
  state.remoteDescriptionSet = false;
  state.pendingCandidates = [];
  $('mix').srcObject = null;
  $('mix-empty').hidden = false;
}

async function startMedia() {
  const stream = await ensureLocalMedia();
  closePeer();
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  state.pc = pc;
  for (const track of stream.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    if (track.kind === 'video') preferH264(transceiver);
  }
  pc.onicecandidate = (e) => {
    if (state.pc !== pc) return;
    send({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
  };
  const mixStream = new MediaStream();
  pc.ontrack = (e) => {
    mixStream.addTrack(e.track);
    $('mix').srcObject = mixStream;
    $('mix-empty').hidden = true;
  };
  pc.onconnectionstatechange = () => {
    const words = { new: '媒体未连接', connecting: '媒体连接中', connected: '媒体已连接',
                    disconnected: '媒体中断', failed: '媒体连接失败', closed: '媒体已关闭' };
    $('media-state').textContent = words[pc.connectionState] || pc.connectionState;
    if (pc.connectionState === 'failed' && state.seated && state.registered) restartIce();
  };
  await sendOffer({});
}

async function sendOffer(options) {
  const pc = state.pc;
  const offer = await pc.createOffer(options);
  await pc.setLocalDescription(offer);
  state.remoteDescriptionSet = false;
  state.pendingCandidates = [];
  state.counters.offers += 1;
  send({ type: 'offer', id: nextId(), sdp: offer.sdp });
}

async function restartIce() {
  if (!state.pc) return startMedia();
  state.counters.iceRestarts += 1;
  log('重新协商媒体（ICE 重启）');
  await sendOffer({ iceRestart: true });
}

function applyMute() {
  if (!state.localStream) return;
  for (const t of state.localStream.getAudioTracks()) t.enabled = !state.micMuted;
  for (const t of state.localStream.getVideoTracks()) t.enabled = !state.cameraOff;
  $('mute').textContent = state.micMuted ? '取消静音' : '麦克风静音';
  $('mute').classList.toggle('on', state.micMuted);
  $('camera').textContent = state.cameraOff ? '开启摄像头' : '关闭摄像头';
  $('camera').classList.toggle('on', state.cameraOff);
}

function leaveCall(reason) {
  state.wantConnected = false;
  state.seated = false;
  state.resumeToken = null;
  closePeer();
  if (state.ws) {
    const ws = state.ws;
    state.ws = null;
    ws.close(1000, 'leave');
  }
  setControls(false);
  setHandRaised(false);
  setStatus(reason || '已离开');
  $('conference-title').textContent = '';
}

// ---- wiring ----

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  state.venue = $('venue').value.trim();
  state.token = $('token').value.trim();
  state.conference = $('conference').value.trim();
  if (!state.venue || !state.token) return;
  state.wantConnected = true;
  state.resumeToken = null;
  $('join').disabled = true;
  ensureLocalMedia()
    .then(() => connect())
    .catch((err) => {
      log(`无法打开摄像头或麦克风：${err.message}`, true);
      setStatus('无法获取摄像头/麦克风', 'bad');
      $('join').disabled = false;
    });
});

$('mute').addEventListener('click', () => {
  state.micMuted = !state.micMuted;
  applyMute();
});

$('camera').addEventListener('click', () => {
  state.cameraOff = !state.cameraOff;
  applyMute();
});

$('hand').addEventListener('click', () => {
  // Request to speak: every venue of the conference (and the operators) sees the hand; the button
  // changes when the server's `hand` confirmation comes back.
  if (!state.seated) return;
  send({ type: 'hand', id: nextId(), raised: !state.handRaised });
  log(state.handRaised ? '放下手' : '已举手，等待主持人安排发言');
});

$('leave').addEventListener('click', () => {
  if (state.seated) send({ type: 'leave', id: nextId() });
  setTimeout(() => leaveCall('已离开'), 100);
});

// Prefill from the query string: /terminal/?venue=minhe&token=...&conference=8123&autojoin=1
(() => {
  const q = new URLSearchParams(location.search);
  for (const k of ['venue', 'token', 'conference']) if (q.get(k)) $(k).value = q.get(k);
  setControls(false);
  if (q.get('autojoin') === '1' && $('venue').value && $('token').value) {
    $('login-form').requestSubmit();
  }
})();

// For tests and diagnostics: what this page sees, read through getStats().
window.plateauTerminal = {
  state: () => ({
    registered: state.registered, seated: state.seated, conference: state.joined && state.joined.conference,
    seat: state.joined && state.joined.seat, participants: [...state.participants.keys()],
    hands: [...state.participants.entries()].filter(([, p]) => p.hand).map(([venue]) => venue),
    layout: state.layout, connectionState: state.pc ? state.pc.connectionState : 'none',
    counters: { ...state.counters }, lastError: state.lastError,
  }),
  async stats() {
    if (!state.pc) return null;
    const report = await state.pc.getStats();
    const out = { video: null, audio: null, sent: null, transport: null };
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && (s.kind === 'video' || s.kind === 'audio')) {
        const codec = s.codecId ? report.get(s.codecId) : null;
        out[s.kind] = {
          codec: codec ? codec.mimeType : null, packetsReceived: s.packetsReceived,
          framesDecoded: s.framesDecoded, keyFramesDecoded: s.keyFramesDecoded,
          frameWidth: s.frameWidth, frameHeight: s.frameHeight, pliCount: s.pliCount,
        };
      } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.sent = { framesEncoded: s.framesEncoded, pliCount: s.pliCount, firCount: s.firCount };
      } else if (s.type === 'transport') {
        out.transport = { dtlsState: s.dtlsState, iceState: s.iceState,
                          selectedCandidatePairChanges: s.selectedCandidatePairChanges };
      }
    });
    return out;
  },
  // Cuts the signaling connection as a network failure would (no leave): the page resumes.
  dropConnection() {
    if (state.ws) state.ws.close(4000, 'test: connection dropped');
  },
};
