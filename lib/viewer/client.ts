/**
 * The viewer page's script, run in the browser after d3-hierarchy (the global `d3`). It reads the
 * search-tree JSON from `<script id="search-data" type="application/json">`, lays the tree out with
 * d3.tree (root on the left, one column per depth) and draws it as SVG; wheel zooms, drag pans; a click
 * selects a node and shows it in the panel; double-click (or the panel's button) collapses a subtree.
 *
 * Hooks for tests: every drawn node is `g.node[data-id]` with its fate as a class; the selected node's
 * text is `#node-text`; the collapse button is `#toggle-subtree`.
 */
export const VIEWER_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('search-data').textContent);
  var nodes = data.nodes;
  var SVG = 'http://www.w3.org/2000/svg';
  var kids = nodes.map(function () { return []; });
  nodes.forEach(function (n) { if (n.parent !== null) kids[n.parent].push(n.id); });
  var collapsed = new Set();
  var selected = null;
  // Three densities: labelled rows for small trees; dots with scores on the chosen path beyond 80 nodes;
  // tighter rows beyond 300 (N = 64 × 10 steps is about 640 nodes), so a fitted tree stays readable.
  var big = nodes.length > 80, huge = nodes.length > 300;
  var VOTE_ROWS = 10;
  var COL = big ? 110 : 190, ROW = huge ? 8 : big ? 13 : 24, RADIUS = huge ? 3.2 : big ? 4.5 : 6.5;

  function el(tag, attrs, parent) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function h(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function fmt(x, digits) { return x === null || x === undefined ? '–' : Number(x).toFixed(digits === undefined ? 3 : digits); }
  function big3(x) {
    var units = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
    for (var i = 0; i < units.length; i++) if (x >= units[i][0]) return (x / units[i][0]).toFixed(2) + ' ' + units[i][1];
    return String(Math.round(x));
  }
  function oneLine(s, max) {
    var t = s.replace(/\s+/g, ' ').trim();
    return t.length > max ? t.slice(0, max - 1) + '…' : t;
  }
  // Reward 0 → red, 0.5 → amber, 1 → green; unscored nodes grey.
  function colour(r) {
    if (r === null || r === undefined) return '#9aa4ae';
    var x = Math.max(0, Math.min(1, r));
    return 'hsl(' + Math.round(4 + 126 * x) + ', 68%, ' + Math.round(50 - 8 * x) + '%)';
  }
  function descendants(id) {
    var out = 0, stack = kids[id].slice();
    while (stack.length) { var c = stack.pop(); out++; stack.push.apply(stack, kids[c]); }
    return out;
  }

  // ---- panel -------------------------------------------------------------------------------------
  var panel = document.getElementById('panel');
  function row(table, cells, cls) {
    var tr = h('tr', null, cls);
    cells.forEach(function (c) { var td = h('td', c[0], c[1]); tr.appendChild(td); });
    table.appendChild(tr);
    return tr;
  }
  function summary() {
    panel.appendChild(h('h1', 'thinktree search'));
    panel.appendChild(h('div', data.question, 'question'));
    panel.appendChild(h('h2', 'Answer'));
    panel.appendChild(h('div', data.answer === null ? '(none)' : data.answer, 'answer'));
    var o = data.options;
    var bits = [o.strategy];
    if (o.n !== undefined) bits.push('N = ' + o.n);
    if (o.beamWidth !== undefined) bits.push('M = ' + o.beamWidth);
    bits.push(o.aggregation + ' aggregation');
    if (o.temperature !== undefined) bits.push('T = ' + o.temperature);
    if (o.seed !== undefined) bits.push('seed ' + o.seed);
    panel.appendChild(h('div', bits.join(' · '), 'meta'));
    if (data.models.policy || data.models.prm) {
      panel.appendChild(h('div', 'policy ' + (data.models.policy || '?') + ', PRM ' + (data.models.prm || '–'), 'meta'));
    }

    panel.appendChild(h('h2', 'Selected node'));
    var details = h('div'); details.id = 'details';
    details.appendChild(h('div', 'Click a node of the tree.', 'hint'));
    panel.appendChild(details);

    panel.appendChild(h('h2', 'Vote over ' + data.candidates.length + ' candidates'));
    var vote = h('table');
    var head = h('tr');
    ['answer', 'votes', '', 'score sum'].forEach(function (t, i) { head.appendChild(h('th', t, i === 1 || i === 3 ? 'num' : '')); });
    vote.appendChild(head);
    var most = Math.max.apply(null, [1].concat(data.vote.map(function (g) { return g.count; })));
    // The largest groups first; a long tail of single answers is summed up in one row.
    var groups = data.vote.slice().sort(function (a, b) { return b.count - a.count || b.scoreSum - a.scoreSum; });
    var shown = groups.filter(function (g, i) { return i < VOTE_ROWS || g.chosen; });
    shown.forEach(function (g) {
      var tr = row(vote, [[(g.chosen ? '★ ' : '') + g.answer], [String(g.count), 'num'], [''], [fmt(g.scoreSum, 2), 'num']], g.chosen ? 'chosen' : '');
      var bar = h('div', null, 'bar');
      bar.style.width = Math.max(2, Math.round(60 * g.count / most)) + 'px';
      tr.children[2].appendChild(bar);
    });
    if (shown.length < groups.length) {
      var rest = groups.filter(function (g) { return shown.indexOf(g) < 0; });
      var votes = rest.reduce(function (t, g) { return t + g.count; }, 0);
      row(vote, [['… ' + rest.length + ' more answers'], [String(votes), 'num'], [''], ['', 'num']], 'more');
    }
    var silent = data.candidates.filter(function (c) { return c.answer === null; }).length;
    if (silent > 0) row(vote, [['(no answer)'], [String(silent), 'num'], [''], ['', 'num']]);
    panel.appendChild(vote);

    panel.appendChild(h('h2', 'Usage'));
    var u = data.usage, usage = h('table');
    [['policy tokens generated', u.policyTokensGenerated], ['policy tokens prefilled', u.policyTokensPrefilled],
     ['PRM tokens scored', u.prmTokensScored], ['steps generated', u.policySteps], ['generations charged', u.generations]]
      .forEach(function (r) { row(usage, [[r[0]], [String(r[1]), 'num']]); });
    row(usage, [['FLOPs'], [big3(u.flops), 'num']]);
    row(usage, [['wall time'], [(u.wallMs / 1000).toFixed(2) + ' s', 'num']]);
    panel.appendChild(usage);

    panel.appendChild(h('h2', 'Tree'));
    var legend = h('div', null, 'legend');
    legend.appendChild(h('span', 'PRM score 0'));
    var grad = h('span', null, 'gradient');
    grad.style.background = 'linear-gradient(90deg,' + [0, 0.25, 0.5, 0.75, 1].map(colour).join(',') + ')';
    legend.appendChild(grad);
    legend.appendChild(h('span', '1'));
    var sw = h('span'); sw.appendChild(h('span', null, 'swatch')); sw.appendChild(document.createTextNode(' chosen path'));
    legend.appendChild(sw);
    legend.appendChild(h('span', 'faded: pruned'));
    panel.appendChild(legend);
    panel.appendChild(h('div', nodes.length + ' nodes. Click a node for its step; double-click to collapse or expand it. Wheel zooms, drag pans.', 'hint'));

  }

  function showDetails(id) {
    var n = nodes[id], box = document.getElementById('details');
    box.textContent = '';
    var t = h('table');
    [['node', '#' + n.id + ' · ' + n.kind + ' · depth ' + n.depth], ['fate', n.fate], ['reward (PRM)', fmt(n.reward)],
     ['value (' + data.options.aggregation + ')', fmt(n.value)], ['tokens', String(n.tokens)], ['log-probability', fmt(n.logprob, 2)],
     ['finish', n.finish || '–'], ['children', String(kids[id].length)]].forEach(function (r) { row(t, [[r[0]], [r[1], 'num']]); });
    if (n.group !== null) row(t, [['group'], [String(n.group), 'num']]);
    if (n.mcts) row(t, [['MCTS visits / value / prior'], [n.mcts.visits + ' / ' + fmt(n.mcts.value) + ' / ' + fmt(n.mcts.prior), 'num']]);
    box.appendChild(t);
    var pre = h('pre', n.kind === 'root' ? data.question : n.text, 'step'); pre.id = 'node-text';
    box.appendChild(pre);
    if (kids[id].length > 0) {
      var b = h('button', collapsed.has(id) ? 'Expand subtree (' + descendants(id) + ' nodes)' : 'Collapse subtree (' + descendants(id) + ' nodes)');
      b.id = 'toggle-subtree';
      b.addEventListener('click', function () { toggle(id); });
      box.appendChild(b);
    }
  }

  // ---- tree --------------------------------------------------------------------------------------
  var svg = document.getElementById('tree');
  var view = el('g', {}, svg);
  var tx = 40, ty = 0, k = 1;
  function apply() { view.setAttribute('transform', 'translate(' + tx + ',' + ty + ') scale(' + k + ')'); }
  var bounds = { x0: 0, x1: 0, y0: 0, y1: 0 };
  var col = COL;

  function toggle(id) {
    if (collapsed.has(id)) collapsed.delete(id); else collapsed.add(id);
    draw();
    showDetails(id);
  }
  function select(id) {
    selected = id;
    var prev = view.querySelector('.node.selected');
    if (prev) prev.classList.remove('selected');
    var g = view.querySelector('.node[data-id="' + id + '"]');
    if (g) g.classList.add('selected');
    showDetails(id);
  }

  function draw() {
    view.textContent = '';
    var root = d3.hierarchy(nodes[0], function (n) { return collapsed.has(n.id) ? null : kids[n.id].map(function (c) { return nodes[c]; }); });
    d3.tree().nodeSize([ROW, col]).separation(function (a, b) { return a.parent === b.parent ? 1 : 1.4; })(root);
    var links = el('g', {}, view), dots = el('g', {}, view);
    bounds = { x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity };
    root.each(function (d) {
      var px = d.y, py = d.x;
      bounds.x0 = Math.min(bounds.x0, px); bounds.x1 = Math.max(bounds.x1, px);
      bounds.y0 = Math.min(bounds.y0, py); bounds.y1 = Math.max(bounds.y1, py);
      if (d.parent) {
        var qx = d.parent.y, qy = d.parent.x, mx = (px + qx) / 2;
        var cls = 'link ' + d.data.fate + (d.data.kind === 'rollout' ? ' rollout' : '');
        if (d.data.fate === 'chosen' && d.parent.data.fate === 'chosen') cls += ' chosen';
        el('path', { d: 'M' + qx + ',' + qy + 'C' + mx + ',' + qy + ' ' + mx + ',' + py + ' ' + px + ',' + py, class: cls }, links);
      }
    });
    root.each(function (d) {
      var n = d.data;
      var cls = 'node ' + n.fate + (collapsed.has(n.id) ? ' collapsed' : '') + (n.id === selected ? ' selected' : '');
      var g = el('g', { class: cls, 'data-id': n.id, transform: 'translate(' + d.y + ',' + d.x + ')' }, dots);
      var r = n.kind === 'root' ? 7 : RADIUS;
      el('circle', { r: n.fate === 'chosen' ? r + 1 : r, fill: n.kind === 'root' ? '#1d232b' : colour(n.reward) }, g);
      var title = el('title', {}, g);
      title.textContent = n.kind === 'root' ? data.question : (n.reward === null ? '' : n.reward.toFixed(3) + ' · ') + oneLine(n.text, 200);
      if (n.kind === 'root') {
        var q = el('text', { x: -10, y: 4, 'text-anchor': 'end' }, g); q.textContent = 'question';
      } else if (big) {
        if (n.fate === 'chosen' || collapsed.has(n.id)) {
          var s = el('text', { x: r + 3, y: -r - 1, class: 'score' }, g);
          s.textContent = (collapsed.has(n.id) ? '+' + descendants(n.id) + ' ' : '') + fmt(n.reward, 2);
        }
      } else {
        // Above the centre line, so the links leaving the node to the right do not cross the label.
        var lab = el('text', { x: r + 4, y: -r + 1 }, g);
        lab.textContent = fmt(n.reward, 2) + '  ' + oneLine(n.text, 28) + (collapsed.has(n.id) ? '  (+' + descendants(n.id) + ')' : '');
      }
      g.addEventListener('click', function (ev) { ev.stopPropagation(); select(n.id); });
      g.addEventListener('dblclick', function (ev) { ev.stopPropagation(); if (kids[n.id].length) { select(n.id); toggle(n.id); } });
    });
    document.getElementById('drawn').textContent = root.descendants().length + ' of ' + nodes.length + ' nodes shown';
  }

  // The whole tree in view (margins in screen pixels; room on the right for the last column's labels).
  // A tall, narrow tree gets wider columns (up to 3×) so that it fills the width at the scale its height allows.
  function fit() {
    var w = svg.clientWidth, hgt = svg.clientHeight, pad = 48, labels = big ? 60 : 200;
    var bh = Math.max(1, bounds.y1 - bounds.y0), depth = Math.max(1, Math.round((bounds.x1 - bounds.x0) / col));
    var kh = Math.min(1.6, (hgt - 2 * pad) / bh);
    var want = Math.max(COL, Math.min(3 * COL, (w - 2 * pad - labels) / (depth * kh)));
    if (Math.abs(want - col) > 1) { col = want; draw(); }
    var bw = Math.max(1, bounds.x1 - bounds.x0);
    k = Math.min(1.6, Math.max(0.05, Math.min((w - 2 * pad - labels) / bw, (hgt - 2 * pad) / bh)));
    tx = pad + 40 - bounds.x0 * k;
    ty = (hgt - bh * k) / 2 - bounds.y0 * k;
    apply();
  }

  // Wheel zooms about the pointer; drag pans.
  svg.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var rect = svg.getBoundingClientRect(), mx = ev.clientX - rect.left, my = ev.clientY - rect.top;
    var f = Math.exp(-ev.deltaY * 0.0015), nk = Math.min(4, Math.max(0.1, k * f));
    tx = mx - (mx - tx) * (nk / k); ty = my - (my - ty) * (nk / k); k = nk;
    apply();
  }, { passive: false });
  var drag = null;
  svg.addEventListener('pointerdown', function (ev) {
    if (ev.target.closest && ev.target.closest('.node')) return;
    drag = { x: ev.clientX - tx, y: ev.clientY - ty };
    svg.classList.add('panning');
  });
  window.addEventListener('pointermove', function (ev) { if (drag) { tx = ev.clientX - drag.x; ty = ev.clientY - drag.y; apply(); } });
  window.addEventListener('pointerup', function () { drag = null; svg.classList.remove('panning'); });

  document.getElementById('fit').addEventListener('click', fit);
  document.getElementById('expand-all').addEventListener('click', function () { collapsed.clear(); draw(); fit(); if (selected !== null) showDetails(selected); });
  document.getElementById('collapse-pruned').addEventListener('click', function () {
    nodes.forEach(function (n) { if (n.fate === 'pruned' && n.parent !== null && nodes[n.parent].fate !== 'pruned' && kids[n.id].length) collapsed.add(n.id); });
    draw(); fit();
  });
  document.getElementById('show-chosen').addEventListener('click', function () {
    var end = nodes.filter(function (n) { return n.fate === 'chosen'; }).pop();
    if (end) select(end.id);
  });

  summary();
  draw();
  fit();
  window.addEventListener('resize', fit);
  document.body.setAttribute('data-ready', 'true');
})();
`;
