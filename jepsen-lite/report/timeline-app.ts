/**
 * The page script of timeline.html, as text (it runs in the browser, not here). It reads the
 * JSON in #jl-data and draws, on one canvas: nemesis bands across every lane, a lane per member
 * (state colour, leader and term), a lane per logical process with each op a bar (green ok, pink
 * fail, amber info; width = latency). Wheel zooms, drag pans, hover shows the op's events as
 * JSON, inputs filter by key and process. Each checker lists its anomalies; "first anomaly"
 * zooms to its events, outlines them and joins them with a line (an Elle cycle drawn over the
 * timeline), and for a register key draws the partial linearization as a path through its ops
 * with the op that could not be placed as a red point. uPlot draws latency and throughput with
 * the same bands.
 *
 * Written without template literals so it can live in a TS template string.
 */
export const TIMELINE_APP = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('jl-data').textContent);
  var COLORS = { ok: '#3a9a4a', fail: '#e879a6', info: '#f0a830' };
  var NODE_COLORS = { up: '#cfe8d4', paused: '#b9c6f0', killed: '#555', partitioned: '#f4c27a', removed: '#ddd' };
  var LABEL_W = 120, AXIS_H = 22, NODE_H = 16, LANE_H = 11, LANE_GAP = 2;
  var canvas = document.getElementById('tl');
  var ctx = canvas.getContext('2d');
  var tip = document.getElementById('tip');
  var endS = Math.max(D.end_s, 0.001);
  var view = { a: 0, b: endS };
  var selected = null; // { events: [...], partial: [...], stuck: n }
  var filter = { key: '', procs: null };
  var lanes = [];      // process ids shown
  var laneOps = {};    // process -> ops (indexes into D.ops)
  var opByEvent = {};  // event index -> op index
  D.ops.forEach(function (o, i) {
    opByEvent[o[6]] = i;
    if (o[7] >= 0) opByEvent[o[7]] = i;
  });

  function opKey(o) { return o[5] >= 0 ? D.keys[o[5]] : ''; }

  function relayout() {
    laneOps = {};
    var keyF = filter.key;
    D.ops.forEach(function (o, i) {
      if (keyF && opKey(o).indexOf(keyF) < 0) return;
      if (filter.procs && filter.procs.indexOf(o[0]) < 0) return;
      (laneOps[o[0]] = laneOps[o[0]] || []).push(i);
    });
    lanes = Object.keys(laneOps).map(Number).sort(function (a, b) { return a - b; });
    var h = AXIS_H + D.nodes.length * NODE_H + 6 + lanes.length * (LANE_H + LANE_GAP) + 10;
    var w = canvas.parentElement.clientWidth || 1200;
    var dpr = window.devicePixelRatio || 1;
    canvas.width = w * dpr;
    canvas.height = h * dpr;
    canvas.style.width = w + 'px';
    canvas.style.height = h + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    draw();
  }

  function W() { return canvas.width / (window.devicePixelRatio || 1); }
  function H() { return canvas.height / (window.devicePixelRatio || 1); }
  function xOf(s) { return LABEL_W + (s - view.a) / (view.b - view.a) * (W() - LABEL_W - 10); }
  function sOf(x) { return view.a + (x - LABEL_W) / (W() - LABEL_W - 10) * (view.b - view.a); }
  function laneTop() { return AXIS_H + D.nodes.length * NODE_H + 6; }
  function laneY(i) { return laneTop() + i * (LANE_H + LANE_GAP); }

  function draw() {
    var w = W(), h = H();
    ctx.clearRect(0, 0, w, h);
    ctx.font = '10px sans-serif';
    // axis
    ctx.fillStyle = '#333';
    var span = view.b - view.a, step = Math.pow(10, Math.floor(Math.log10(span / 8)));
    if (span / step > 16) step *= 5; else if (span / step > 8) step *= 2;
    for (var t = Math.ceil(view.a / step) * step; t <= view.b; t += step) {
      var x = xOf(t);
      ctx.fillRect(x, AXIS_H - 5, 1, 5);
      ctx.fillText(+t.toFixed(3) + 's', x + 2, AXIS_H - 8);
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(LABEL_W, 0, w - LABEL_W, h);
    ctx.clip();
    // nemesis bands across all lanes
    D.bands.forEach(function (b, i) {
      var x0 = xOf(b.s), x1 = Math.max(xOf(b.e), x0 + 2);
      ctx.fillStyle = b.e > b.s ? 'rgba(120,120,200,0.15)' : 'rgba(120,120,200,0.5)';
      ctx.fillRect(x0, AXIS_H, x1 - x0, h - AXIS_H);
      ctx.fillStyle = '#4a4a9a';
      ctx.fillText(b.label, x0 + 2, AXIS_H + 9 + (i % 3) * 10); // staggered, so close labels stay legible
    });
    // node lanes
    D.nodes.forEach(function (n, ni) {
      var y = AXIS_H + ni * NODE_H;
      D.segments.forEach(function (s) {
        if (s.node !== n) return;
        var x0 = xOf(s.s), x1 = xOf(s.e);
        ctx.fillStyle = NODE_COLORS[s.state] || '#eee';
        ctx.fillRect(x0, y + 2, Math.max(1, x1 - x0), NODE_H - 4);
        if (s.leader) {
          ctx.strokeStyle = '#000';
          ctx.strokeRect(x0 + 0.5, y + 2.5, Math.max(1, x1 - x0) - 1, NODE_H - 5);
        }
        ctx.fillStyle = s.state === 'killed' ? '#fff' : '#222';
        var label = s.state + (s.leader ? ' leader' : '') + (s.term !== undefined ? ' t' + s.term : '');
        if (x1 - x0 > 40) ctx.fillText(label, Math.max(x0, LABEL_W) + 3, y + NODE_H - 5);
      });
    });
    // process lanes
    var sel = {};
    if (selected) selected.events.forEach(function (e) { if (opByEvent[e] !== undefined) sel[opByEvent[e]] = true; });
    lanes.forEach(function (p, li) {
      var y = laneY(li);
      laneOps[p].forEach(function (oi) {
        var o = D.ops[oi];
        if (o[4] < view.a || o[3] > view.b) return;
        var x0 = xOf(o[3]), x1 = xOf(o[4]);
        ctx.fillStyle = COLORS[D.types[o[2]]];
        ctx.fillRect(x0, y, Math.max(1.5, x1 - x0), LANE_H);
        if (sel[oi]) {
          ctx.strokeStyle = '#d00';
          ctx.lineWidth = 2;
          ctx.strokeRect(x0 - 1, y - 1, Math.max(1.5, x1 - x0) + 2, LANE_H + 2);
          ctx.lineWidth = 1;
        }
      });
    });
    ctx.restore();
    // labels
    ctx.fillStyle = '#222';
    D.nodes.forEach(function (n, ni) { ctx.fillText(n, 4, AXIS_H + ni * NODE_H + NODE_H - 5); });
    lanes.forEach(function (p, li) { ctx.fillText('p' + p, 4, laneY(li) + LANE_H - 2); });
    drawSelection();
  }

  function centre(oi) {
    var o = D.ops[oi];
    var li = lanes.indexOf(o[0]);
    if (li < 0) return null;
    return { x: (xOf(o[3]) + xOf(o[4])) / 2, y: laneY(li) + LANE_H / 2 };
  }

  function drawSelection() {
    if (!selected) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(LABEL_W, 0, W() - LABEL_W, H());
    ctx.clip();
    // the anomaly's ops joined in order (a cycle returns to its first op)
    var pts = [];
    selected.events.forEach(function (e) {
      var oi = opByEvent[e];
      if (oi === undefined) return;
      var c = centre(oi);
      if (c && (pts.length === 0 || pts[pts.length - 1].oi !== oi)) { c.oi = oi; pts.push(c); }
    });
    ctx.strokeStyle = 'rgba(200,0,0,0.7)';
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    pts.forEach(function (c, i) { if (i === 0) ctx.moveTo(c.x, c.y); else ctx.lineTo(c.x, c.y); });
    if (selected.cycle && pts.length > 2) ctx.closePath();
    ctx.stroke();
    ctx.setLineDash([]);
    // partial linearization (register): a path through the linearized ops, red point at the stuck op
    if (selected.partial && selected.partial.length) {
      ctx.strokeStyle = '#1565c0';
      ctx.lineWidth = 2;
      ctx.beginPath();
      var first = true;
      selected.partial.forEach(function (e) {
        var oi = opByEvent[e];
        if (oi === undefined) return;
        var c = centre(oi);
        if (!c) return;
        if (first) ctx.moveTo(c.x, c.y); else ctx.lineTo(c.x, c.y);
        first = false;
        ctx.fillStyle = '#1565c0';
        ctx.fillRect(c.x - 2, c.y - 2, 4, 4);
      });
      ctx.stroke();
      ctx.lineWidth = 1;
    }
    if (selected.stuck !== undefined && opByEvent[selected.stuck] !== undefined) {
      var c = centre(opByEvent[selected.stuck]);
      if (c) {
        ctx.fillStyle = '#e00';
        ctx.beginPath();
        ctx.arc(c.x, c.y, 5, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    ctx.restore();
  }

  function hit(x, y) {
    var li = Math.floor((y - laneTop()) / (LANE_H + LANE_GAP));
    if (li < 0 || li >= lanes.length || x < LABEL_W) return null;
    var s = sOf(x), tol = (view.b - view.a) * 3 / (W() - LABEL_W);
    var best = null;
    laneOps[lanes[li]].forEach(function (oi) {
      var o = D.ops[oi];
      if (o[3] - tol <= s && s <= o[4] + tol) best = oi;
    });
    return best;
  }

  function opJson(oi) {
    var o = D.ops[oi];
    var out = [D.events[o[6]]];
    if (o[7] >= 0) out.push(D.events[o[7]]);
    return JSON.stringify(out, null, 1);
  }

  canvas.addEventListener('mousemove', function (ev) {
    var r = canvas.getBoundingClientRect();
    if (drag) {
      var ds = (drag.x - ev.clientX) / (W() - LABEL_W) * (view.b - view.a);
      view.a = drag.a + ds; view.b = drag.b + ds;
      draw();
      return;
    }
    var oi = hit(ev.clientX - r.left, ev.clientY - r.top);
    if (oi === null) { tip.style.display = 'none'; return; }
    tip.textContent = opJson(oi);
    tip.style.display = 'block';
    tip.style.left = (ev.pageX + 12) + 'px';
    tip.style.top = (ev.pageY + 12) + 'px';
  });
  canvas.addEventListener('mouseleave', function () { tip.style.display = 'none'; drag = null; });
  var drag = null;
  canvas.addEventListener('mousedown', function (ev) { drag = { x: ev.clientX, a: view.a, b: view.b }; });
  window.addEventListener('mouseup', function () { drag = null; });
  canvas.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var r = canvas.getBoundingClientRect();
    var s = sOf(ev.clientX - r.left), k = ev.deltaY > 0 ? 1.25 : 0.8;
    view.a = s - (s - view.a) * k;
    view.b = s + (view.b - s) * k;
    draw();
  }, { passive: false });
  document.getElementById('reset').addEventListener('click', function () { view = { a: 0, b: endS }; selected = null; draw(); });
  document.getElementById('fkey').addEventListener('input', function (ev) { filter.key = ev.target.value; relayout(); });
  document.getElementById('fproc').addEventListener('input', function (ev) {
    var v = ev.target.value.trim();
    filter.procs = v === '' ? null : v.split(/[ ,]+/).map(function (x) { return Number(x.replace(/^p/, '')); }).filter(function (x) { return !isNaN(x); });
    relayout();
  });
  window.addEventListener('resize', relayout);

  // ---- checkers ----
  function showAnomaly(ci, ai) {
    var a = D.checkers[ci].anomalies[ai];
    var det = a.details || {};
    selected = {
      events: a.events.slice(),
      partial: Array.isArray(det.partial) ? det.partial : null,
      stuck: typeof det.stuck === 'number' ? det.stuck : undefined,
      cycle: /G0|G1|G2|G-single|cycle/i.test(a.type)
    };
    var ts = [];
    selected.events.concat(selected.partial || []).forEach(function (e) {
      var oi = opByEvent[e];
      if (oi !== undefined) ts.push(D.ops[oi][3], D.ops[oi][4]);
    });
    if (a.key && !filter.key) { /* keep lanes; the key is shown below */ }
    if (ts.length) {
      var lo = Math.min.apply(null, ts), hi = Math.max.apply(null, ts), pad = Math.max((hi - lo) * 0.2, 0.01);
      view = { a: lo - pad, b: hi + pad };
    }
    var box = document.getElementById('anomaly');
    var text = D.checkers[ci].checker + ' / ' + a.type + (a.key ? ' / key ' + a.key : '') + '\n' + a.message;
    if (Array.isArray(det.partialOps)) text += '\n\npartial linearization:\n  ' + det.partialOps.join('\n  ') + (selected.stuck !== undefined ? '\n  ✗ cannot place the op of event ' + selected.stuck : '');
    if (det.explanation || det.cycle) text += '\n\n' + (det.explanation || JSON.stringify(det.cycle, null, 1));
    text += '\n\nevents: ' + a.events.join(', ') + '\n\n' + JSON.stringify(det, null, 1).slice(0, 4000);
    box.textContent = text;
    draw();
    document.getElementById('timeline').scrollIntoView();
  }
  var list = document.getElementById('checkers');
  D.checkers.forEach(function (c, ci) {
    var div = document.createElement('div');
    div.className = 'checker v-' + String(c.valid);
    var h = document.createElement('b');
    h.textContent = c.checker + ': ' + (c.valid === true ? 'valid' : c.valid === false ? 'INVALID' : 'unknown') + ' ';
    div.appendChild(h);
    if (c.anomalies.length) {
      var first = document.createElement('a');
      first.href = '#a-' + ci + '-0';
      first.textContent = 'first anomaly';
      first.className = 'first-anomaly';
      first.addEventListener('click', function (e) { e.preventDefault(); showAnomaly(ci, 0); });
      div.appendChild(first);
      var ul = document.createElement('ul');
      c.anomalies.forEach(function (a, ai) {
        var li = document.createElement('li');
        var link = document.createElement('a');
        link.href = '#a-' + ci + '-' + ai;
        link.id = 'a-' + ci + '-' + ai;
        link.textContent = a.type + ': ' + a.message;
        link.addEventListener('click', function (e) { e.preventDefault(); showAnomaly(ci, ai); });
        li.appendChild(link);
        ul.appendChild(li);
      });
      div.appendChild(ul);
    }
    var st = document.createElement('div');
    st.className = 'stats';
    st.textContent = Object.keys(c.stats).map(function (k) { return k + '=' + c.stats[k]; }).join('  ');
    div.appendChild(st);
    list.appendChild(div);
  });

  // ---- plots (uPlot) with the same bands ----
  function bandsHook(u) {
    var c = u.ctx, top = u.bbox.top, hgt = u.bbox.height;
    c.save();
    D.bands.forEach(function (b) {
      var x0 = u.valToPos(b.s, 'x', true), x1 = u.valToPos(b.e, 'x', true);
      c.fillStyle = b.e > b.s ? 'rgba(120,120,200,0.15)' : 'rgba(120,120,200,0.5)';
      c.fillRect(x0, top, Math.max(x1 - x0, 2), hgt);
    });
    c.restore();
  }
  var pw = Math.max(600, (document.getElementById('plots').clientWidth || 1200) - 20);
  if (typeof uPlot !== 'undefined') {
    var pt = function (color) { return { stroke: color, fill: color, paths: function () { return null; }, points: { show: true, size: 3, stroke: color, fill: color } }; };
    new uPlot({
      title: 'latency (ms) by op start', width: pw, height: 260,
      scales: { x: { time: false }, y: { distr: 3 } },
      series: [{ label: 's' }, Object.assign({ label: 'ok' }, pt(COLORS.ok)), Object.assign({ label: 'fail' }, pt(COLORS.fail)), Object.assign({ label: 'info' }, pt(COLORS.info))],
      hooks: { drawClear: [bandsHook] }
    }, D.latency, document.getElementById('latency'));
    new uPlot({
      title: 'throughput (completions / s)', width: pw, height: 220,
      scales: { x: { time: false } },
      series: [{ label: 's' }, { label: 'ok', stroke: COLORS.ok }, { label: 'fail', stroke: COLORS.fail }, { label: 'info', stroke: COLORS.info }],
      hooks: { drawClear: [bandsHook] }
    }, D.throughput, document.getElementById('throughput'));
  }
  relayout();
})();
`;
