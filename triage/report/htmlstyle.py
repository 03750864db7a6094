"""The one stylesheet of every HTML page the tool writes (inlined: pages load nothing).

Why a module of its own: the page kit (:mod:`htmlkit`) and the chart (:mod:`htmlchart`) share
its class names and tone colours, and it is long enough to crowd the code it styles.  System
fonts only (no web fonts), light and dark schemes, and a print layout in which nothing scrolls
or hides and tone colours print (``print-color-adjust: exact``).

Tones (class ``t-<tone>``): critical, error, warning, info (severities); ok, bad, unknown (fix
verdicts, checks); neutral.  The chart's series colours are Okabe and Ito's colour-blind-safe set.
"""
from __future__ import annotations

__all__ = ["STYLESHEET", "TONES", "SERIES_COLOURS"]

#: every tone a piece of the kit accepts; anything else is shown as "neutral"
TONES = ("critical", "error", "warning", "info", "ok", "bad", "unknown", "neutral")

#: line colours of chart series, in order (Okabe & Ito 2008), cycled with dash patterns past eight
SERIES_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c6d1f", "#000000")

STYLESHEET = """
:root{--fg:#1b1f24;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;--link:#0550ae;
--critical:#a40e26;--critical-fg:#fff;--error:#cf222e;--warning:#9a6700;--info:#0969da;--ok:#1a7f37;
--bad:#cf222e;--unknown:#9a6700;--neutral:#59636e;--mark:#fff8c5;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:15px;
line-height:1.45;color:var(--fg);background:var(--bg)}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--panel:#161b22;
--line:#3d444d;--link:#4493f8;--critical:#da3633;--error:#f85149;--warning:#d29922;--info:#4493f8;
--ok:#3fb950;--bad:#f85149;--unknown:#d29922;--neutral:#9198a1;--mark:#3b2e00}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:1.2rem 1.5rem 3rem}
a{color:var(--link)}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin:1.8rem 0 .6rem;border-bottom:1px solid var(--line);
padding-bottom:.2rem}h3{font-size:1.05rem;margin:0 0 .4rem}
.sub{color:var(--muted);margin:0 0 1rem}
code,.mono,.log{font-family:ui-monospace,SFMono-Regular,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.86em}
.banner{border:1px solid var(--line);border-left:6px solid var(--neutral);background:var(--panel);
padding:.7rem 1rem;margin:.8rem 0;border-radius:6px}
.banner.t-critical,.banner.t-error,.banner.t-bad{border-left-color:var(--error)}
.banner.t-warning,.banner.t-unknown{border-left-color:var(--warning)}.banner.t-ok{border-left-color:var(--ok)}
.banner.t-info{border-left-color:var(--info)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:.6rem;margin:.8rem 0}
.card{border:1px solid var(--line);border-top:4px solid var(--neutral);border-radius:6px;padding:.5rem .7rem;
background:var(--panel);break-inside:avoid}
.card .label{color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}
.card .value{font-size:1.25rem;font-weight:600;overflow-wrap:anywhere}.card .note{font-size:.85rem;color:var(--muted)}
.card.t-critical,.card.t-error,.card.t-bad{border-top-color:var(--error)}
.card.t-warning,.card.t-unknown{border-top-color:var(--warning)}
.card.t-info{border-top-color:var(--info)}.card.t-ok{border-top-color:var(--ok)}
.badge{display:inline-block;padding:0 .45em;border-radius:4px;font-size:.8rem;font-weight:600;
border:1px solid currentColor;white-space:nowrap;vertical-align:baseline}
.t-critical.badge{background:var(--critical);color:var(--critical-fg);border-color:var(--critical)}
.t-critical{color:var(--critical)}.t-error{color:var(--error)}.t-warning{color:var(--warning)}.t-info{color:var(--info)}.t-ok{color:var(--ok)}
.t-bad{color:var(--bad)}.t-unknown{color:var(--unknown)}.t-neutral{color:var(--neutral)}
.card.t-critical,.card.t-error,.card.t-warning,.card.t-info,.card.t-ok,.card.t-bad,.card.t-unknown,
.card.t-neutral,.banner{color:inherit}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.2rem 0}
th,td{border:1px solid var(--line);padding:.25rem .45rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:var(--panel)}.nw{white-space:nowrap;overflow-wrap:normal}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .9rem;margin:.4rem 0}
dl.kv dt{font-weight:600;color:var(--muted)}dl.kv dd{margin:0;overflow-wrap:anywhere}
.log{border:1px solid var(--line);border-radius:6px;background:var(--panel);margin:.3rem 0 .7rem;
padding:.3rem 0;overflow-x:auto}
.log .row{display:flex;white-space:pre-wrap;overflow-wrap:anywhere}
.log .ln{flex:0 0 5.5em;text-align:right;padding-right:.8em;color:var(--muted);user-select:none}
.log .tx{flex:1;padding-right:.6em}.log .gap .tx{color:var(--muted)}.log .hl{background:var(--mark)}
pre.log{padding:.5rem .8rem;white-space:pre-wrap;overflow-wrap:anywhere}
.log-head{font-size:.85rem;color:var(--muted);margin-top:.4rem;overflow-wrap:anywhere}
.tl{margin:.6rem 0 1rem}
.tl-strip{position:relative;height:4.1rem;border:1px solid var(--line);border-radius:6px;background:var(--panel);
overflow:hidden}
.tl-span{position:absolute;top:0;bottom:0;border-right:2px solid var(--bg);padding:.15rem .35rem;
font-size:.78rem;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;background:rgba(9,105,218,.13)}
.tl-span.r-kdump{background:rgba(207,34,46,.13)}.tl-span.r-first{background:rgba(26,127,55,.13)}
.tl-mark{position:absolute;transform:translateX(-50%);font-size:.7rem;font-weight:700;
text-decoration:none;padding:0 .25em;border-radius:3px;background:var(--bg);border:1px solid currentColor;
line-height:1.1}
.tl-list{list-style:none;padding:0;margin:.5rem 0}
.tl-list>li{border-left:4px solid var(--line);padding:.2rem .8rem;margin:.4rem 0;break-inside:avoid}
.tl-list>li.r-kdump{border-left-color:var(--error)}.tl-list>li.r-first{border-left-color:var(--ok)}
.finding{border:1px solid var(--line);border-radius:6px;padding:.7rem 1rem;margin:.8rem 0}
.finding.root{border-width:2px;border-color:var(--error)}.finding.root.s-warning{border-color:var(--warning)}
.finding.root.s-info{border-color:var(--info)}
.muted{color:var(--muted)}.small{font-size:.85rem}
.chart{margin:.5rem 0 1rem}.chart svg{width:100%;height:auto;display:block}
.chart .axis{stroke:var(--muted);stroke-width:1}.chart .grid{stroke:var(--line);stroke-width:1}
.chart text{fill:var(--muted);font-size:11px;font-family:inherit}
.legend{list-style:none;padding:0;margin:.2rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1.1rem;font-size:.85rem}
.legend .sw{display:inline-block;width:1.6em;height:.35em;vertical-align:middle;margin-right:.35em}
.empty{color:var(--muted);font-style:italic}
@media print{:root{font-size:11pt;--bg:#fff;--fg:#000;--panel:#f6f8fa}body{max-width:none;padding:0}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.log{overflow:visible}.log .row{white-space:pre-wrap}a{color:inherit;text-decoration:none}
h2,h3,h4,.log-head{break-after:avoid}.card,tr,.log .row,dl.kv{break-inside:avoid}
.finding{break-inside:auto}}
"""
