// The dmacycled dashboard (docs/dashboard.md): polls the read API (docs/api.md) with a read
// token once a second and draws the running job's state, a decimated live stream, the queue
// and the latest results. No library, nothing fetched from elsewhere (the CSP forbids it).
'use strict';

const POLL_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const TARGET_POINTS = 3000; // per run: the stream is decimated to about this many points
const PAGE_LIMIT = 5000; // rows per samples request
const PAGES_PER_TICK = 8; // catching up with a long run takes a few ticks, not one long one
const TOKEN_KEY = 'dmacycle.token';

const SEGMENT_COLOURS = {
  equilibrate: '#9aa5b1',
  hold: '#5b8fc7',
  load: '#3aa3a3',
  cycle: '#e08a2e',
  creep: '#8e6cc2',
  unload: '#3aa3a3',
  recovery: '#4c9a5b',
  paused: '#d8b52b',
  after_plan: '#9aa5b1',
  safe_state: '#c8413b',
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- token

// A token in the URL fragment (#token=...) is moved to sessionStorage and the fragment removed,
// so it is neither sent to the server (fragments never are) nor left in the address bar.
function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname);
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

// ---------------------------------------------------------------- API

class ApiFailure extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // unreachable | unauthorized | forbidden | error
  }
}

async function api(path) {
  let response;
  try {
    response = await fetch(path, {
      headers: { Authorization: 'Bearer ' + token() },
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiFailure('unreachable', 'the daemon does not answer (' + error.message + ')');
  }
  if (response.ok) {
    return response.json();
  }
  let message = 'HTTP ' + response.status;
  try {
    const body = await response.json();
    if (body.error) {
      message += ': ' + body.error;
    }
  } catch (ignored) {
    // not the API's JSON error (a proxy's page): the status says enough
  }
  if (response.status === 401) {
    throw new ApiFailure('unauthorized', message);
  }
  if (response.status === 403) {
    throw new ApiFailure('forbidden', message);
  }
  throw new ApiFailure('error', message);
}

// ---------------------------------------------------------------- formatting

function fixed(value, digits) {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '–';
  }
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text; // no "-0.000" for noise around zero
}

// Significant digits, switching to exponent notation only for very large or small numbers.
function sig(value, digits = 3) {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '–';
  }
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) {
    return value.toExponential(digits - 1);
  }
  return Number(value.toPrecision(digits)).toString();
}

// A value with its standard error, both to the error's second significant digit.
function withError(value, error, unit = '') {
  if (!Number.isFinite(value)) {
    return '–';
  }
  if (!(error > 0) || !Number.isFinite(error)) {
    return sig(value, 4) + unit;
  }
  const decimals = Math.max(0, 1 - Math.floor(Math.log10(error)));
  return `${value.toFixed(decimals)} ± ${error.toFixed(decimals)}${unit}`;
}

function duration(seconds) {
  if (!Number.isFinite(seconds)) {
    return '–';
  }
  if (seconds < 120) {
    return seconds.toFixed(0) + ' s';
  }
  if (seconds < 7200) {
    return (seconds / 60).toFixed(1) + ' min';
  }
  return (seconds / 3600).toFixed(2) + ' h';
}

function localTime(utc) {
  if (!utc) {
    return '–';
  }
  const date = new Date(utc);
  if (Number.isNaN(date.getTime())) {
    return utc;
  }
  const sameDay = date.toDateString() === new Date().toDateString();
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  return sameDay ? time : date.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + time;
}

function setText(id, text) {
  const element = $(id);
  if (element.textContent !== text) {
    element.textContent = text;
  }
}

function setStatus(element, status) {
  element.textContent = status || '–';
  element.dataset.status = status || '';
}

// ---------------------------------------------------------------- charts

// "Nice" tick values (1, 2, 5 × 10^n) covering [min, max] with about `count` steps.
function ticks(min, max, count) {
  const raw = (max - min) / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw) || 10 * power;
  const values = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return { values, step };
}

function tickLabel(value, step) {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return value.toFixed(Math.min(decimals, 6));
}

// The time axis' unit for a span of instrument seconds.
function timeUnit(spanSeconds) {
  if (spanSeconds <= 600) {
    return { name: 's', factor: 1 };
  }
  if (spanSeconds <= 3 * 3600) {
    return { name: 'min', factor: 60 };
  }
  return { name: 'h', factor: 3600 };
}

const FONT = '12px system-ui, "DejaVu Sans", sans-serif';

// A canvas sized to its box in device pixels, cleared, with the context scaled to CSS pixels.
function prepareCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext('2d');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  context.font = FONT;
  return { context, width, height };
}

// Plot frame: margins leave room for tick labels and the axis titles.
const MARGIN = { left: 74, right: 14, top: 10, bottom: 38 };

function gridLine(context, x0, y0, x1, y1) {
  context.beginPath();
  context.moveTo(x0, y0);
  context.lineTo(x1, y1);
  context.stroke();
}

function drawAxes(context, box, x, y, xTitle, yTitle) {
  const { left, top, right, bottom } = box;
  context.strokeStyle = '#e3e7ec';
  context.fillStyle = '#4a5562';
  context.lineWidth = 1;
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (const v of y.ticks.values) {
    const py = Math.round(y.map(v)) + 0.5;
    gridLine(context, left, py, right, py);
    context.fillText(y.label(v), left - 6, py);
  }
  context.textAlign = 'center';
  context.textBaseline = 'top';
  let lastRight = -Infinity;
  for (const v of x.ticks.values) {
    const px = Math.round(x.map(v)) + 0.5;
    gridLine(context, px, top, px, bottom);
    const text = x.label(v);
    const half = context.measureText(text).width / 2;
    if (px - half > lastRight + 8 && px + half <= right + MARGIN.right) {
      context.fillText(text, px, bottom + 5);
      lastRight = px + half;
    }
  }
  context.strokeStyle = '#8a949f';
  context.strokeRect(left + 0.5, top + 0.5, right - left, bottom - top);
  context.fillStyle = '#1d2733';
  context.fillText(xTitle, (left + right) / 2, bottom + 21);
  context.save();
  context.translate(14, (top + bottom) / 2);
  context.rotate(-Math.PI / 2);
  context.textBaseline = 'middle';
  context.fillText(yTitle, 0, 0);
  context.restore();
}

function linearAxis(min, max, from, to, count) {
  if (!(max > min)) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.01 : 1;
    min -= pad;
    max += pad;
  }
  const t = ticks(min, max, count);
  return {
    ticks: t,
    map: (v) => from + ((v - min) / (max - min)) * (to - from),
    label: (v) => tickLabel(v, t.step),
  };
}

function emptyMessage(context, width, height, text) {
  context.fillStyle = '#66717e';
  context.textAlign = 'center';
  context.textBaseline = 'middle';
  context.fillText(text, width / 2, height / 2);
}

// One quantity against instrument time, the segments shaded behind the line.
function drawSeries(canvas, series, column, spec) {
  const { context, width, height } = prepareCanvas(canvas);
  const n = series.t.length;
  canvas.dataset.points = String(n);
  const box = { left: MARGIN.left, top: MARGIN.top, right: width - MARGIN.right, bottom: height - MARGIN.bottom };
  const values = series[column];
  const range = seriesRange(values);
  let [yMin, yMax] = range ? [range[0] * spec.scale, range[1] * spec.scale] : spec.emptyRange;
  if (range) {
    const pad = (yMax - yMin) * 0.06 || Math.max(Math.abs(yMax) * 0.01, spec.minSpan);
    yMin -= pad;
    yMax += pad;
  }
  const tMax = n ? series.t[n - 1] : 60;
  const unit = timeUnit(tMax);
  const x = linearAxis(0, Math.max(tMax, 1) / unit.factor, box.left, box.right, 8);
  const y = linearAxis(yMin, yMax, box.bottom, box.top, 4);

  // Segment bands.
  context.globalAlpha = 0.13;
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i === n || series.segment[i] !== series.segment[start]) {
      const from = x.map(series.t[start] / unit.factor);
      const to = x.map((i === n ? series.t[n - 1] : series.t[i]) / unit.factor);
      context.fillStyle = SEGMENT_COLOURS[series.segment[start]] || '#9aa5b1';
      context.fillRect(from, box.top, Math.max(to - from, 1), box.bottom - box.top);
      start = i;
    }
  }
  context.globalAlpha = 1;

  drawAxes(context, box, x, y, 'time t / ' + unit.name, spec.title);
  if (!n) {
    emptyMessage(context, width, height - MARGIN.bottom + MARGIN.top, 'no samples yet');
    return;
  }
  context.save();
  context.beginPath();
  context.rect(box.left, box.top, box.right - box.left, box.bottom - box.top);
  context.clip();
  context.strokeStyle = spec.colour;
  context.lineWidth = 1.2;
  context.lineJoin = 'round';
  context.beginPath();
  let moved = false;
  for (let i = 0; i < n; i++) {
    const v = values[i] * spec.scale;
    if (!Number.isFinite(v)) {
      moved = false;
      continue;
    }
    const px = x.map(series.t[i] / unit.factor);
    const py = y.map(v);
    if (moved) {
      context.lineTo(px, py);
    } else {
      context.moveTo(px, py);
      moved = true;
    }
  }
  context.stroke();
  context.restore();
}

const SERIES_SPECS = {
  temperature_k: { canvas: 'chart-temperature', title: 'temperature T / K', scale: 1, colour: '#c0392b', minSpan: 0.5, emptyRange: [290, 370] },
  stress_pa: { canvas: 'chart-stress', title: 'stress σ / MPa', scale: 1e-6, colour: '#1f5f99', minSpan: 1, emptyRange: [0, 200] },
  strain: { canvas: 'chart-strain', title: 'strain ε / %', scale: 100, colour: '#1d7a46', minSpan: 0.001, emptyRange: [0, 1] },
};

// The relaxation-time spectrum: strain per mode against log10 τ.
function drawSpectrum(canvas, spectrum) {
  const { context, width, height } = prepareCanvas(canvas);
  const taus = (spectrum && spectrum.spectrum && spectrum.spectrum.tau_s) || [];
  const strains = (spectrum && spectrum.spectrum && spectrum.spectrum.strain) || [];
  const n = Math.min(taus.length, strains.length);
  canvas.dataset.points = String(n);
  const box = { left: MARGIN.left, top: MARGIN.top, right: width - MARGIN.right, bottom: height - MARGIN.bottom };
  if (!n) {
    const x = linearAxis(-2, 8, box.left, box.right, 5);
    const y = linearAxis(0, 1, box.bottom, box.top, 3);
    drawAxes(context, box, x, y, 'relaxation time log₁₀(τ / s)', 'strain / 10⁻³');
    emptyMessage(context, width, height - MARGIN.bottom + MARGIN.top, 'no spectrum yet');
    return;
  }
  const logs = taus.slice(0, n).map((t) => Math.log10(t));
  const values = strains.slice(0, n).map((s) => s * 1e3);
  // The evidence's credible band (docs/analysis.md), when the run stored one.
  const low = (spectrum.spectrum.strain_low || []).map((s) => s * 1e3);
  const high = (spectrum.spectrum.strain_high || []).map((s) => s * 1e3);
  // Only over the observed window: past it ε_i is not identifiable (strain_beyond_window).
  const window = spectrum.window_s || Infinity;
  const inside = logs.filter((v) => 10 ** v <= window).length;
  const band = low.length === n && high.length === n && inside > 1;
  canvas.dataset.band = String(band ? inside : 0);
  const x = linearAxis(Math.min(...logs), Math.max(...logs), box.left, box.right, 6);
  x.label = (v) => String(Math.round(v));
  x.ticks.values = x.ticks.values.filter((v) => Number.isInteger(Math.round(v * 1e6) / 1e6));
  const top = Math.max(...values, ...(band ? high.slice(0, inside) : []));
  const y = linearAxis(0, top * 1.1 || 1, box.bottom, box.top, 4);
  drawAxes(context, box, x, y, 'relaxation time log₁₀(τ / s)', 'strain / 10⁻³');
  if (band) {
    context.fillStyle = 'rgba(31, 95, 153, 0.18)';
    context.beginPath();
    for (let i = 0; i < inside; i++) {
      context[i ? 'lineTo' : 'moveTo'](x.map(logs[i]), y.map(high[i]));
    }
    for (let i = inside - 1; i >= 0; i--) {
      context.lineTo(x.map(logs[i]), y.map(low[i]));
    }
    context.closePath();
    context.fill();
  }
  const barWidth = Math.max(2, ((box.right - box.left) / n) * 0.7);
  context.fillStyle = '#1f5f99';
  for (let i = 0; i < n; i++) {
    const px = x.map(logs[i]);
    const py = y.map(values[i]);
    context.fillRect(px - barWidth / 2, py, barWidth, box.bottom - py);
  }
}

// ---------------------------------------------------------------- state

const view = {
  series: null, // { runId, every, since, t: [], segment: [], temperature_k: [], ... }
  results: { runId: null, data: null, checked: '' },
  timer: null,
  backoff: POLL_MS,
  generation: 0, // bumped by restart(), so a poll in flight from before does not reschedule
};

function newSeries(runId, every) {
  return { runId, every, since: -1, seq: [], t: [], segment: [], temperature_k: [], stress_pa: [], strain: [] };
}

// Keeps every `factor`-th retained sample (those with seq % every == 0), so the series stays a
// few thousand points however long the run goes; later requests ask the server for the same.
function coarsen(series, factor) {
  series.every *= factor;
  const keep = [];
  for (let i = 0; i < series.seq.length; i++) {
    if (series.seq[i] % series.every === 0) {
      keep.push(i);
    }
  }
  for (const key of ['seq', 't', 'segment', 'temperature_k', 'stress_pa', 'strain']) {
    series[key] = keep.map((i) => series[key][i]);
  }
}

function appendRows(series, page) {
  const column = Object.fromEntries(page.columns.map((name, i) => [name, i]));
  for (const row of page.rows) {
    series.seq.push(row[column.seq]);
    series.t.push(row[column.t_s]);
    series.segment.push(row[column.segment]);
    series.temperature_k.push(row[column.temperature_k]);
    series.stress_pa.push(row[column.stress_pa]);
    series.strain.push(row[column.strain]);
  }
  series.since = page.next_since;
}

// The decimation for a run: its expected sample count over TARGET_POINTS. For the job in
// progress, the plan's duration times the rate seen so far; for an ended run, its samples.
function chooseEvery(job, run) {
  const progress = job.progress;
  let expected = run ? run.samples : 0;
  if (progress && progress.run_id === run.run_id && progress.t_s > 1 && run.samples > 0) {
    const rate = run.samples / progress.t_s;
    expected = Math.max(expected, rate * (progress.plan_duration_s || progress.t_s));
  }
  return Math.max(1, Math.floor(expected / TARGET_POINTS));
}

async function followRun(job) {
  const runId = job.progress ? job.progress.run_id : job.run_ids[job.run_ids.length - 1];
  if (runId === undefined) {
    view.series = null;
    return;
  }
  const run = (job.runs || []).find((r) => r.run_id === runId) || { run_id: runId, samples: 0 };
  if (!view.series || view.series.runId !== runId) {
    view.series = newSeries(runId, chooseEvery(job, run));
  }
  const series = view.series;
  for (let page = 0; page < PAGES_PER_TICK; page++) {
    const answer = await api(`/api/v1/runs/${runId}/samples?since=${series.since}&limit=${PAGE_LIMIT}&every=${series.every}`);
    if (view.series !== series) {
      return; // the token changed meanwhile
    }
    appendRows(series, answer);
    while (series.t.length > 2 * TARGET_POINTS) {
      coarsen(series, 2);
    }
    if (!answer.more) {
      break;
    }
  }
}

function renderState(job) {
  const progress = job ? job.progress : null;
  const run = job && job.runs && job.runs.length ? job.runs.find((r) => progress && r.run_id === progress.run_id) || job.runs[job.runs.length - 1] : null;
  setText('job-title', job ? `#${job.job_id} ${job.name}` : '–');
  setStatus($('job-status'), job ? job.status : '');
  setText('job-sub', job ? (job.runs_planned > 1 ? `${job.run_ids.length}/${job.runs_planned} runs · ` : '') + (job.source || '') : '');
  setText('run-title', run ? `#${run.run_id} ${run.sample}` : '–');
  setText('run-sub', run ? `${run.samples.toLocaleString('en')} samples${run.sweep_point ? ' · ' + run.sweep_point : ''}` : '');
  const segment = progress ? progress.segment : run ? run.status : '–';
  setText('segment', segment || '–');
  setText('paused', progress ? (progress.paused ? 'paused at σ_creep' : progress.pause_pending ? 'pause pending' : 'not paused') : '');
  $('paused').dataset.paused = progress && progress.paused ? 'yes' : 'no';
  // The API counts the cycle only while cycling (or paused in it); before and after, 0.
  setText('cycle', progress && progress.cycles_total ? `${progress.cycle || '–'} / ${progress.cycles_total}` : '–');
  const fraction = progress && progress.plan_duration_s > 0 ? Math.min(1, progress.plan_t_s / progress.plan_duration_s) : job && job.status === 'completed' ? 1 : 0;
  setText('plan', progress ? `plan ${duration(progress.plan_t_s)} of ${duration(progress.plan_duration_s)}` : job && job.ended_utc ? `ended ${localTime(job.ended_utc)}` : '');
  $('plan-bar').style.width = (fraction * 100).toFixed(1) + '%';
  const last = view.series && view.series.t.length ? view.series.t.length - 1 : -1;
  const latest = (key) => (progress ? progress[key] : last >= 0 ? view.series[key][last] : null);
  const cards = [
    ['temperature', 'temperature_k', 1, 1, 'K'],
    ['stress', 'stress_pa', 1e-6, 1, 'MPa'],
    ['strain', 'strain', 100, 3, '%'],
  ];
  for (const [id, key, scale, digits, unit] of cards) {
    const value = latest(key);
    setText(id, `${value === null || value === undefined ? '–' : fixed(value * scale, digits)} ${unit}`);
    const range = view.series ? seriesRange(view.series[key]) : null;
    setText(id + '-range', range ? `run ${fixed(range[0] * scale, digits)} to ${fixed(range[1] * scale, digits)} ${unit}` : '');
  }
}

function seriesRange(values) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  return Number.isFinite(min) ? [min, max] : null;
}

function renderCharts() {
  const series = view.series || newSeries(null, 1);
  for (const [column, spec] of Object.entries(SERIES_SPECS)) {
    drawSeries($(spec.canvas), series, column, spec);
  }
  setText('charts-run', view.series ? '#' + view.series.runId : '');
  setText('decimation', view.series ? `1 in ${view.series.every} samples · ${series.t.length.toLocaleString('en')} points` : '');
  const legend = $('legend');
  const present = [...new Set(series.segment)];
  if (legend.dataset.segments !== present.join(',')) {
    legend.dataset.segments = present.join(',');
    legend.replaceChildren(
      ...present.map((name) => {
        const item = document.createElement('span');
        item.textContent = name;
        item.style.setProperty('--swatch', SEGMENT_COLOURS[name] || '#9aa5b1');
        return item;
      }),
    );
  }
}

function renderQueue(jobs, current) {
  setText('queue-count', `${jobs.filter((j) => j.status === 'queued').length} queued · ${jobs.length} job${jobs.length === 1 ? '' : 's'}`);
  const rows = jobs.slice(0, 12).map((job) => {
    const tr = document.createElement('tr');
    if (current && job.job_id === current.job_id) {
      tr.className = 'current';
    }
    const cells = [`#${job.job_id}`, job.name, null, `${job.run_ids.length}/${job.runs_planned}`, localTime(job.submitted_utc)];
    for (const text of cells) {
      const td = document.createElement('td');
      if (text === null) {
        const status = document.createElement('span');
        status.className = 'status';
        setStatus(status, job.status);
        td.append(status);
      } else {
        td.textContent = text;
      }
      tr.append(td);
    }
    return tr;
  });
  if (!rows.length) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 5;
    td.className = 'muted';
    td.textContent = 'no jobs';
    tr.append(td);
    rows.push(tr);
  }
  $('queue-rows').replaceChildren(...rows);
}

// The newest run that has results: the runs of ended jobs, newest first. Asked again only when
// the jobs' statuses change.
async function refreshResults(jobs) {
  const ended = jobs.filter((j) => !['queued', 'running', 'paused'].includes(j.status) || j.run_ids.length > 1);
  const signature = ended.map((j) => j.job_id + ':' + j.status + ':' + j.run_ids.length).join(',');
  if (signature === view.results.checked) {
    return;
  }
  const runIds = ended.flatMap((j) => j.run_ids).sort((a, b) => b - a);
  for (const runId of runIds.slice(0, 10)) {
    if (runId === view.results.runId) {
      break; // still the newest with results
    }
    const answer = await api(`/api/v1/runs/${runId}/results`);
    if (answer.results && Object.keys(answer.results).length) {
      view.results.runId = runId;
      view.results.data = answer.results;
      renderResults();
      break;
    }
  }
  view.results.checked = signature;
}

function fitNote(result) {
  return result && result.fit && !result.fit.usable ? ` (not usable: ${result.fit.message})` : '';
}

function renderResults() {
  const results = view.results.data;
  if (!results) {
    setText('results-run', '');
    $('results-list').replaceChildren();
    $('peak-rows').replaceChildren();
    for (const [id, none] of [['results-none', false], ['chart-spectrum', true], ['peaks', true]]) {
      $(id).hidden = none;
    }
    return;
  }
  for (const [id, none] of [['results-none', true], ['chart-spectrum', false], ['peaks', false]]) {
    $(id).hidden = none;
  }
  setText('results-run', 'run #' + view.results.runId);
  const entries = [];
  const work = results.work_done;
  if (work) {
    entries.push(['Work done WD', `${sig(work.work_done_kj_mol, 3)} kJ/mol`, fitNote(work)]);
    entries.push(['v_total', `${sig(work.v_total_j_m3 / 1e6, 3)} MJ/m³`, `${work.cycles} cycle${work.cycles === 1 ? '' : 's'}`]);
  }
  const kww = results.kww;
  if (kww) {
    entries.push(['KWW β', withError(kww.beta, kww.beta_stderr), fitNote(kww)]);
    entries.push(['KWW τ', withError(kww.tau_s, kww.tau_s_stderr, ' s'), duration(kww.tau_s)]);
  }
  const list = $('results-list');
  list.replaceChildren(
    ...entries.flatMap(([name, value, note]) => {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = value + ' ';
      if (note) {
        const span = document.createElement('span');
        span.className = 'muted';
        span.textContent = note;
        dd.append(span);
      }
      return [dt, dd];
    }),
  );
  drawSpectrum($('chart-spectrum'), results.spectrum);
  const peaks = (results.spectrum && results.spectrum.peaks) || [];
  $('peak-rows').replaceChildren(
    ...peaks.map((peak) => {
      const tr = document.createElement('tr');
      for (const text of [`${sig(peak.tau_s, 3)} s`, peak.strain.toExponential(2)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
}

// ---------------------------------------------------------------- connection state

function showConnection(state, text) {
  const pill = $('connection');
  pill.dataset.state = state;
  pill.textContent = text;
  document.body.dataset.state = state;
}

function showNotice(kind, text) {
  const notice = $('notice');
  notice.hidden = !text;
  notice.dataset.kind = kind;
  notice.textContent = text || '';
}

// One update; false when a restart() came in between (its answers are for a token that has been
// replaced or forgotten, so nothing is shown).
async function tick(generation) {
  const listing = await api('/api/v1/jobs');
  const jobs = listing.jobs || [];
  const active = jobs.find((j) => j.status === 'running' || j.status === 'paused');
  const chosen = active || jobs[0];
  let job = null;
  if (chosen) {
    job = await api('/api/v1/jobs/' + chosen.job_id);
    await followRun(job);
  } else {
    view.series = null;
  }
  if (generation !== view.generation) {
    return false;
  }
  showConnection('ok', 'connected');
  showNotice('', jobs.length ? '' : 'No job yet: submit one (dmacycle submit JOB.yaml); this page shows it as soon as it is queued.');
  renderState(job);
  renderCharts();
  renderQueue(jobs, job);
  await refreshResults(jobs);
  setText('updated', 'updated ' + new Date().toLocaleTimeString([], { hour12: false }));
  return true;
}

async function poll() {
  view.timer = null;
  const generation = view.generation;
  const again = (ms) => {
    if (generation === view.generation) {
      view.timer = setTimeout(poll, ms);
    }
  };
  if (!token()) {
    showConnection('no-token', 'no token');
    showNotice('warn', 'Enter a token with the read scope above, or open this page as /#token=TOKEN. It is kept for this tab only (sessionStorage).');
    return;
  }
  try {
    if (!(await tick(generation))) {
      return;
    }
    view.backoff = POLL_MS;
  } catch (error) {
    if (!(error instanceof ApiFailure)) {
      throw error;
    }
    if (generation !== view.generation) {
      return; // see tick()
    }
    if (error.kind === 'unauthorized') {
      showConnection('unauthorized', '401 unauthorized');
      showNotice('error', `The daemon refused the token (${error.message}). Enter a valid token with the read scope.`);
      return; // no retry with a refused token: each try would be an audit line in the log
    }
    if (error.kind === 'forbidden') {
      showConnection('forbidden', '403 forbidden');
      showNotice('error', `The token lacks the read scope (${error.message}). Use a token with the read scope.`);
      return;
    }
    view.backoff = Math.min(view.backoff * 2, MAX_BACKOFF_MS);
    if (error.kind === 'unreachable') {
      showConnection('unreachable', 'daemon unreachable');
      showNotice('warn', `The daemon does not answer; trying again in ${Math.round(view.backoff / 1000)} s. The data below is from the last successful update.`);
    } else {
      showConnection('error', 'error');
      showNotice('error', `${error.message}; trying again in ${Math.round(view.backoff / 1000)} s.`);
    }
    again(view.backoff);
    return;
  }
  again(POLL_MS);
}

function restart() {
  view.generation++;
  if (view.timer) {
    clearTimeout(view.timer);
  }
  view.series = null;
  view.results = { runId: null, data: null, checked: '' };
  view.backoff = POLL_MS;
  poll();
}

function start() {
  takeTokenFromFragment();
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token').value.trim();
    $('token').value = '';
    if (value) {
      sessionStorage.setItem(TOKEN_KEY, value);
    }
    restart();
  });
  $('forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    restart();
  });
  window.addEventListener('hashchange', () => {
    takeTokenFromFragment();
    restart();
  });
  window.addEventListener('resize', () => {
    renderCharts();
    renderResults();
  });
  renderCharts();
  renderResults();
  poll();
}

start();
