// Plateau console: read-only views over the REST API (/api/v1). Live control, operator login and
// regional rights come with their own issues.
'use strict';

const KIND = { hub: '枢纽', hall: '主会场', subcentre: '分中心', department: '厅局', county: '县' };
const STATE = { confirmed: '已确认', bumped: '被抢占', cancelled: '已取消' };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function getJson(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

function kbps(v) { return v >= 1000 && v % 1000 === 0 ? `${v / 1000} M` : `${v} k`; }

function renderTree(topo) {
  const bySite = new Map(topo.sites.map((s) => [s.id, s]));
  const uplink = new Map(topo.links.map((l) => [l.to, l]));
  const mcuAt = new Map(topo.mcus.map((m) => [m.site, m]));
  const children = new Map();
  for (const s of topo.sites) {
    if (!s.parent) continue;
    if (!children.has(s.parent)) children.set(s.parent, []);
    children.get(s.parent).push(s);
  }
  const node = (s) => {
    const li = el('li', {}, el('span', { class: `kind kind-${s.kind}` }, KIND[s.kind] || s.kind), s.name);
    const meta = [];
    if (s.number) meta.push(`#${s.number}`);
    const l = uplink.get(s.id);
    if (l) meta.push(`链路 ${kbps(l.down_kbps)}bit/s（可用 ${l.usable_percent}%）`);
    const m = mcuAt.get(s.id);
    if (m) meta.push(`MCU ${m.ports} 端口`);
    li.append(el('span', { class: 'meta' }, meta.join(' · ')));
    const kids = children.get(s.id);
    if (kids) li.append(el('ul', {}, ...kids.map(node)));
    return li;
  };
  const hub = topo.sites.find((s) => s.kind === 'hub');
  const tree = document.getElementById('tree');
  tree.replaceChildren(el('ul', {}, node(hub)));
  const count = (k) => topo.sites.filter((s) => s.kind === k).length;
  document.getElementById('topo-summary').textContent =
    `${count('hall')} 个主会场 · ${count('subcentre')} 个分中心 · ${count('department')} 个厅局 · ${count('county')} 个县 · ${topo.mcus.length} 台 MCU`;
  const rows = topo.links.map((l) => el('tr', {},
    el('td', {}, l.id), el('td', {}, bySite.get(l.from)?.name || l.from), el('td', {}, bySite.get(l.to)?.name || l.to),
    el('td', {}, `${l.down_kbps} / ${l.up_kbps}`), el('td', {}, `${l.usable_percent}%`),
    el('td', {}, Math.floor(l.down_kbps * l.usable_percent / 100)), el('td', {}, l.assumption ? '假设值' : '')));
  document.getElementById('link-rows').replaceChildren(...rows);
}

async function loadBookings() {
  const note = document.getElementById('bookings-note');
  try {
    const data = await getJson('/api/v1/bookings');
    const list = Array.isArray(data) ? data : (data.bookings || []);
    note.textContent = list.length ? '' : '暂无会议预约。';
    document.getElementById('booking-rows').replaceChildren(...list.map((b) => el('tr', {},
      el('td', {}, b.conference_number || b.id), el('td', {}, b.title), el('td', {}, b.start), el('td', {}, b.end),
      el('td', {}, (b.venues || []).length), el('td', {}, b.profile), el('td', {}, STATE[b.state] || b.state))));
  } catch (e) {
    note.textContent = `无法读取会议预约：${e.message}`;
  }
}

async function main() {
  const health = document.getElementById('health');
  try {
    const h = await getJson('/healthz');
    health.textContent = `服务正常 v${h.version}`;
    health.className = 'pill ok';
  } catch (e) {
    health.textContent = '服务不可用';
    health.className = 'pill bad';
  }
  renderTree(await getJson('/api/v1/topology'));
  for (const a of document.querySelectorAll('nav a')) {
    a.addEventListener('click', () => {
      for (const b of document.querySelectorAll('nav a')) b.classList.toggle('active', b === a);
      for (const s of document.querySelectorAll('main section')) s.hidden = s.id !== a.dataset.tab;
      if (a.dataset.tab === 'bookings') loadBookings();
    });
  }
}

main();
