/** The viewer page's stylesheet: the tree on the left, a panel on the right. */
export const VIEWER_CSS = String.raw`
:root { --bg: #fbfbfa; --panel: #ffffff; --ink: #1d232b; --muted: #6a737d; --line: #d8dde3; --chosen: #2563eb; }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; background: var(--bg); color: var(--ink);
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
#app { display: grid; grid-template-columns: minmax(0, 1fr) 360px; height: 100vh; }
#stage { position: relative; overflow: hidden; border-right: 1px solid var(--line); }
#toolbar { position: absolute; top: 10px; left: 10px; display: flex; gap: 6px; z-index: 2; align-items: center; }
#toolbar .count { color: var(--muted); margin-left: 6px; background: rgba(251,251,250,.85); padding: 2px 6px; border-radius: 4px; }
button { font: inherit; border: 1px solid var(--line); background: #fff; color: var(--ink); border-radius: 5px; padding: 3px 9px; cursor: pointer; }
button:hover { border-color: var(--chosen); }
button:disabled { opacity: .45; cursor: default; }
svg#tree { width: 100%; height: 100%; display: block; cursor: grab; user-select: none; }
svg#tree.panning { cursor: grabbing; }
.link { fill: none; stroke: #b7c0ca; stroke-width: 1.2px; }
.link.rollout { stroke-dasharray: 3 3; }
.link.chosen { stroke: var(--chosen); stroke-width: 3px; }
.link.pruned { opacity: .35; }
.node { cursor: pointer; }
.node circle { stroke: #ffffff; stroke-width: 1.5px; }
.node.pruned { opacity: .4; }
.node.chosen circle { stroke: var(--chosen); stroke-width: 3px; }
.node.finished circle { stroke: #111827; stroke-width: 1.5px; }
.node.collapsed circle { stroke: #111827; stroke-dasharray: 2 2; stroke-width: 2px; }
.node.selected circle { stroke: #f59e0b; stroke-width: 4px; }
.node text { font-size: 11px; fill: var(--ink); paint-order: stroke; stroke: var(--bg); stroke-width: 4px; stroke-linejoin: round; }
.node text.score { font-variant-numeric: tabular-nums; fill: var(--muted); }
.node.chosen text { fill: var(--chosen); font-weight: 600; }
#panel { overflow: auto; background: var(--panel); padding: 14px 16px 24px; }
#panel h1 { font-size: 15px; margin: 0 0 8px; }
#panel h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 18px 0 6px; }
.question { white-space: pre-wrap; }
.answer { font-size: 20px; font-weight: 650; color: var(--chosen); }
.meta { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
td, th { text-align: left; padding: 2px 6px 2px 0; border-bottom: 1px solid #eef0f2; vertical-align: top; }
th { font-weight: 500; color: var(--muted); }
td.num, th.num { text-align: right; }
tr.chosen td { color: var(--chosen); font-weight: 600; }
.bar { height: 6px; background: var(--chosen); border-radius: 3px; opacity: .7; }
pre.step { white-space: pre-wrap; word-break: break-word; background: #f4f6f8; border: 1px solid #e6e9ed; border-radius: 6px;
  padding: 8px; margin: 6px 0; font: 12px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
.legend { display: flex; align-items: center; gap: 8px; color: var(--muted); font-size: 12px; flex-wrap: wrap; }
.gradient { width: 120px; height: 10px; border-radius: 3px; }
.swatch { display: inline-block; width: 18px; height: 0; border-top: 3px solid var(--chosen); vertical-align: middle; }
.hint { color: var(--muted); font-size: 12px; }
`;
