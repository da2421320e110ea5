// Steward dashboard client. Every piece of text from the store goes into the page through textContent or
// createTextNode, never as HTML, so a message carrying markup or scripts shows as the characters it is.

const $ = (id) => document.getElementById(id);
const state = { session: null, workspace: null, page: 'flags' };

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function notify(text) {
  $('notice').textContent = text;
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['x-csrf-token'] = state.session ? state.session.csrf : '';
  }
  const response = await fetch(path, {
    method: options.method || 'GET',
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  return { status: response.status, body };
}

function workspaceQuery() {
  const w = state.workspace;
  return `platform=${encodeURIComponent(w.platform)}&workspace=${encodeURIComponent(w.workspaceId)}`;
}

/** The message split into words and gaps; words the model named for the chosen labels get a heat colour. */
function heatText(text, highlights, labels) {
  const weights = new Map();
  for (const label of labels) {
    for (const { word, weight } of highlights[label] || []) {
      const key = word.toLowerCase();
      weights.set(key, Math.max(weights.get(key) || 0, weight));
    }
  }
  const p = el('p', { class: 'message' });
  for (const part of text.split(/([\p{L}\p{N}_']+)/u)) {
    if (part === '') continue;
    const weight = weights.get(part.toLowerCase());
    if (weight === undefined) {
      p.append(document.createTextNode(part));
      continue;
    }
    const mark = el('mark', { class: 'heat', title: `weight ${weight}`, text: part });
    mark.style.setProperty('--heat', String(weight));
    p.append(mark);
  }
  return p;
}

function flagItem(flag) {
  const labels = Object.keys(flag.scores).sort((a, b) => flag.scores[b] - flag.scores[a]);
  const headingId = `flag-${flag.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const item = el('li', { class: `flag status-${flag.status}`, 'aria-labelledby': headingId });
  const when = new Date(flag.createdAt).toISOString().replace('T', ' ').slice(0, 16);
  item.append(
    el('h3', { id: headingId, text: `${flag.authorName} in #${flag.channelId} · ${when} UTC · ${flag.status}` }),
  );
  if (Array.isArray(flag.context) && flag.context.length > 0) {
    // The reply chain the message answered, oldest first; members' words, so text nodes only.
    const chain = el('ol', { class: 'reply-chain', 'aria-label': 'In reply to' });
    for (const turn of flag.context)
      chain.append(el('li', { text: `${turn.fromBot ? 'Steward' : turn.authorName || turn.authorId}: ${turn.text}` }));
    item.append(el('p', { class: 'reply-chain-title', text: 'In reply to' }), chain);
  }
  const messageBox = el('div', { class: 'message-box' });
  const chooser = el('select', { 'aria-label': `Highlight words for (flag by ${flag.authorName})` });
  chooser.append(el('option', { value: '', text: 'all flagged labels' }));
  for (const label of labels) chooser.append(el('option', { value: label, text: label }));
  const draw = () => {
    const chosen = chooser.value ? [chooser.value] : flag.flagged;
    messageBox.replaceChildren(heatText(flag.excerpt, flag.highlights, chosen));
  };
  chooser.addEventListener('change', draw);
  draw();
  item.append(messageBox, el('label', { class: 'chooser', text: 'Highlight ' }, chooser));

  const table = el('table', { class: 'scores' });
  table.append(el('caption', { text: 'Scores per label' }));
  table.append(
    el(
      'tr',
      {},
      el('th', { scope: 'col', text: 'label' }),
      el('th', { scope: 'col', text: 'score' }),
      el('th', { scope: 'col', text: 'words that drove it' }),
    ),
  );
  for (const label of labels) {
    const score = flag.scores[label];
    const meter = el('meter', { min: '0', max: '1', value: String(score), 'aria-label': `${label} score` });
    const words = (flag.highlights[label] || []).map((h) => h.word).join(', ');
    table.append(
      el(
        'tr',
        { class: flag.flagged.includes(label) ? 'flagged' : '' },
        el('th', { scope: 'row', text: flag.flagged.includes(label) ? `${label} (flagged)` : label }),
        el('td', {}, meter, document.createTextNode(` ${score.toFixed(2)}`)),
        el('td', { text: words || '—' }),
      ),
    );
  }
  item.append(table);

  const last = flag.history.at(-1);
  if (last) {
    item.append(el('p', { class: 'history', text: `Last: ${last.action} by ${last.actorName || last.actorId}` }));
  }
  if (flag.appeal) item.append(appealBox(flag));
  const actions = el('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' });
  const titles = {
    dismiss: 'Dismiss',
    delete: 'Delete message',
    timeout: 'Time out author (10 min)',
    warn: 'Warn author privately',
  };
  for (const action of flag.actions) {
    actions.append(
      el('button', {
        type: 'button',
        text: titles[action],
        'aria-label': `${titles[action]}: flag by ${flag.authorName}`,
        disabled: flag.status !== 'open',
        onclick: () => runAction(flag, action),
      }),
    );
  }
  item.append(actions);
  return item;
}

/** The member's appeal: their note (as text), its state, who decided it, and Uphold / Reverse while pending. */
function appealBox(flag) {
  const a = flag.appeal;
  const box = el('div', { class: `appeal appeal-${a.status}`, role: 'group', 'aria-label': `Appeal by ${flag.authorName}` });
  const filed = new Date(a.at).toISOString().replace('T', ' ').slice(0, 16);
  box.append(el('p', { text: `Appeal (${a.status}), filed ${filed} UTC:` }), el('blockquote', { text: a.note || '—' }));
  if (a.status !== 'pending') {
    const when = a.decidedAt ? new Date(a.decidedAt).toISOString().replace('T', ' ').slice(0, 16) : '';
    box.append(el('p', { text: `${a.status === 'reversed' ? 'Reversed' : 'Upheld'} by ${a.decidedByName || a.decidedById} · ${when} UTC` }));
    return box;
  }
  for (const [decision, title] of [
    ['uphold', 'Uphold'],
    ['reverse', 'Reverse'],
  ]) {
    box.append(
      el('button', {
        type: 'button',
        text: title,
        'aria-label': `${title} the appeal by ${flag.authorName}`,
        onclick: () => decideAppeal(flag, decision),
      }),
    );
  }
  return box;
}

async function decideAppeal(flag, decision) {
  const { status, body } = await api(`/api/flags/${encodeURIComponent(flag.id)}/appeal`, {
    method: 'POST',
    body: { decision },
  });
  if (status === 200) notify(`Appeal ${decision === 'reverse' ? 'reversed' : 'upheld'}: flag by ${flag.authorName}.`);
  else notify(body && body.error ? body.error : `The decision failed (${status}).`);
  await Promise.all([loadFlags(), loadFeedback()]);
}

async function runAction(flag, action) {
  const { status, body } = await api(`/api/flags/${encodeURIComponent(flag.id)}/actions`, {
    method: 'POST',
    body: { action },
  });
  const done = { dismiss: 'Dismissed', delete: 'Deletion queued', timeout: 'Timeout queued', warn: 'Warning queued' };
  if (status === 200) notify(`${done[action]}: flag by ${flag.authorName}.`);
  else notify(body && body.error ? body.error : `The action failed (${status}).`);
  await loadFlags();
}

async function loadFlags() {
  const form = new FormData($('filters'));
  const params = new URLSearchParams();
  for (const [key, value] of form) if (value) params.set(key, String(value));
  const { status, body } = await api(`/api/flags?${workspaceQuery()}&${params}`);
  const list = $('flag-list');
  if (status !== 200) {
    list.replaceChildren();
    notify(body && body.error ? body.error : `Could not load flags (${status}).`);
    return;
  }
  list.replaceChildren(...body.flags.map(flagItem));
  $('flag-count').textContent = `${body.flags.length} flag${body.flags.length === 1 ? '' : 's'}`;
}

async function setThreshold(label, value) {
  const { status, body } = await api('/api/settings', {
    method: 'POST',
    body: {
      platform: state.workspace.platform,
      workspace: state.workspace.workspaceId,
      group: 'config',
      sub: 'threshold',
      options: { label, value: String(value) },
    },
  });
  return { ok: status === 200, text: body && (body.text || body.error) };
}

async function loadFeedback() {
  const { status, body } = await api(`/api/feedback?${workspaceQuery()}`);
  const rows = $('feedback').querySelector('tbody');
  if (status !== 200) return rows.replaceChildren();
  rows.replaceChildren(
    ...body.labels.map((f) => {
      const current = body.thresholds[f.label];
      const cell = el('td');
      if (f.suggestedThreshold !== null) {
        cell.append(
          el('button', {
            type: 'button',
            text: `Apply ${f.suggestedThreshold}`,
            'aria-label': `Apply suggested threshold ${f.suggestedThreshold} to ${f.label}`,
            onclick: async () => {
              const applied = await setThreshold(f.label, f.suggestedThreshold);
              notify(applied.text || 'Could not apply the threshold.');
              if (!applied.ok) return;
              await loadFeedback();
              const undo = el('button', {
                type: 'button',
                text: 'Undo',
                'aria-label': `Undo the threshold change of ${f.label}`,
                onclick: async () => {
                  const undone = await setThreshold(f.label, current === undefined ? 'default' : current);
                  notify(undone.text || 'Could not undo.');
                  undo.remove();
                  await loadFeedback();
                },
              });
              $('notice').append(' ', undo);
            },
          }),
        );
      } else cell.textContent = '—';
      return el(
        'tr',
        {},
        el('th', { scope: 'row', text: f.label }),
        el('td', { text: String(f.dismissed) }),
        el('td', { text: String(f.actioned) }),
        el('td', { text: String(f.open) }),
        el('td', { text: current === undefined ? 'model default' : String(current) }),
        cell,
      );
    }),
  );
}

async function loadSettings() {
  const { status, body } = await api(`/api/settings?${workspaceQuery()}`);
  if (status !== 200) return notify(body && body.error ? body.error : `Could not load settings (${status}).`);
  $('settings-admin').textContent = body.isAdmin
    ? 'You may change these settings.'
    : 'Only admins may change these settings; changes will be refused.';
  const view = $('settings-view');
  view.replaceChildren();
  const s = body.settings;
  const rows = {
    'Moderation mode': s.moderationMode,
    Replies: s.replyMode,
    'Sentiment tags': s.sentimentTags,
    'Moderation channel': s.moderationChannelId || 'off',
    Thresholds: Object.entries(s.thresholds).map(([k, v]) => `${k} ${v}`).join(', ') || 'model defaults',
    Topics: s.topics.map((t) => t.name).join(', ') || 'none',
    'Exempt channels': s.exemptChannels.join(', ') || 'none',
  };
  for (const [name, value] of Object.entries(rows)) view.append(el('dt', { text: name }), el('dd', { text: value }));
}

async function saveSetting(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const options = Object.fromEntries(new FormData(form));
  const { body, status } = await api('/api/settings', {
    method: 'POST',
    body: {
      platform: state.workspace.platform,
      workspace: state.workspace.workspaceId,
      group: form.dataset.group,
      sub: form.dataset.sub,
      options,
    },
  });
  notify(body && (body.text || body.error) ? body.text || body.error : `Could not save (${status}).`);
  await loadSettings();
}

// Eight colours: the topics chart draws up to eight series.
const PALETTE = ['#c0392b', '#2471a3', '#b9770e', '#1e8449', '#7d3c98', '#566573', '#117a65', '#a04000'];

/** Charts with uPlot, served by the dashboard itself (no CDN). */
async function loadTrends() {
  const { status, body } = await api(`/api/trends?${workspaceQuery()}`);
  if (status !== 200 || typeof uPlot === 'undefined') return;
  const labels = Object.keys(body.flagsPerDay.series).sort();
  const flagsBox = $('chart-flags');
  flagsBox.replaceChildren();
  new uPlot(
    {
      width: 640,
      height: 220,
      series: [{}, ...labels.map((label, i) => ({ label, stroke: PALETTE[i % PALETTE.length] }))],
      axes: [{}, { label: 'flags' }],
    },
    [body.flagsPerDay.x, ...labels.map((l) => body.flagsPerDay.series[l])],
    flagsBox,
  );
  const languages = Object.keys(body.skippedByLanguage).sort();
  const skippedBox = $('chart-skipped');
  skippedBox.replaceChildren();
  new uPlot(
    {
      width: 640,
      height: 180,
      scales: { x: { time: false } },
      series: [{}, { label: 'messages', stroke: PALETTE[1], paths: uPlot.paths.bars({ size: [0.6] }), points: { show: false } }],
      axes: [{ values: (_u, ticks) => ticks.map((t) => languages[t] || '') }, { label: 'messages' }],
    },
    [languages.map((_, i) => i), languages.map((l) => body.skippedByLanguage[l])],
    skippedBox,
  );
  drawSentiment(body.sentimentPerDay);
  drawTopics(body.topicsPerDay);
}

/** Messages per best-matching topic per day; the server sends the most matched topics, most first. */
function drawTopics({ x, series }) {
  const topics = Object.keys(series);
  const box = $('chart-topics');
  box.replaceChildren();
  $('topics-empty').hidden = topics.length > 0;
  if (topics.length === 0) return;
  new uPlot(
    {
      width: 640,
      height: 220,
      series: [{}, ...topics.map((label, i) => ({ label, stroke: PALETTE[i % PALETTE.length] }))],
      axes: [{}, { label: 'messages' }],
    },
    [x, ...topics.map((topic) => series[topic])],
    box,
  );
}

const SENTIMENT_COLOURS = { negative: PALETTE[0], neutral: PALETTE[5], positive: PALETTE[3] };

/** Messages per sentiment per day in the chosen channel (channel ids, as the flag log shows them). */
function drawSentiment({ x, channels }) {
  const select = $('sentiment-channel');
  const ids = Object.keys(channels).sort();
  const previous = select.value;
  select.replaceChildren(...ids.map((id) => el('option', { value: id, text: id })));
  if (ids.includes(previous)) select.value = previous;
  $('sentiment-empty').hidden = ids.length > 0;
  const draw = () => {
    const box = $('chart-sentiment');
    box.replaceChildren();
    const series = channels[select.value];
    if (!series) return;
    const labels = ['negative', 'neutral', 'positive'];
    new uPlot(
      {
        width: 640,
        height: 200,
        series: [{}, ...labels.map((label) => ({ label, stroke: SENTIMENT_COLOURS[label] }))],
        axes: [{}, { label: 'messages' }],
      },
      [x, ...labels.map((label) => series[label])],
      box,
    );
  };
  select.onchange = draw;
  draw();
}

function show(page) {
  state.page = page;
  $('flags-page').hidden = page !== 'flags';
  $('settings-page').hidden = page !== 'settings';
  $('nav-flags').toggleAttribute('aria-current', page === 'flags');
  $('nav-settings').toggleAttribute('aria-current', page === 'settings');
  if (page === 'flags') return Promise.all([loadFlags(), loadFeedback(), loadTrends()]);
  return loadSettings();
}

async function boot() {
  const { status, body } = await api('/api/session');
  if (status !== 200) {
    $('signed-out').hidden = false;
    const providers = await api('/auth/providers');
    for (const name of (providers.body && providers.body.providers) || []) {
      const title = name === 'discord' ? 'Discord' : 'Slack';
      $('signed-out').append(el('p', {}, el('a', { href: `/auth/${name}`, text: `Sign in with ${title}` })));
    }
    return;
  }
  state.session = body;
  $('who').textContent = `Signed in as ${body.actor.name}`;
  const select = $('workspace');
  body.workspaces.forEach((w, i) => {
    select.append(el('option', { value: String(i), text: `${w.name} (${w.platform})` }));
  });
  state.workspace = body.workspaces[0] || null;
  for (const id of ['nav', 'workspace-label', 'signout']) $(id).hidden = false;
  select.addEventListener('change', () => {
    state.workspace = body.workspaces[Number(select.value)];
    show(state.page);
  });
  $('nav-flags').addEventListener('click', () => show('flags'));
  $('nav-settings').addEventListener('click', () => show('settings'));
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    loadFlags();
  });
  for (const form of document.querySelectorAll('form.setting')) form.addEventListener('submit', saveSetting);
  $('signout').addEventListener('click', async () => {
    await api('/api/signout', { method: 'POST', body: {} });
    location.reload();
  });
  if (!state.workspace) return notify('This session has no workspaces.');
  await show('flags');
}

boot();
