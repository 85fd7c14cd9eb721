/**
 * The console's one stylesheet, served from /console/assets/console.css (the
 * CSP allows styles from this origin only: no inline styles anywhere).
 * Colours keep a contrast of at least 4.5:1 on their backgrounds.
 */
export const consoleCss = `
:root{--fg:#1b1f24;--muted:#4a5360;--line:#d4d9df;--bg:#fff;--soft:#f4f6f8;--accent:#0b5cad;
--ok:#116329;--warn:#8a4b00;--bad:#b3261e;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f2b705;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:2}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:1rem;padding:.6rem 1.2rem;background:#14213d;color:#fff}
header.top a{color:#fff}
header.top .brand{font-weight:700;font-size:1.1rem;text-decoration:none;margin-right:1rem}
header.top nav ul{display:flex;flex-wrap:wrap;gap:.2rem 1rem;list-style:none;margin:0;padding:0}
header.top nav a{text-decoration:none;padding:.2rem 0;border-bottom:2px solid transparent}
header.top nav a[aria-current=page]{border-bottom-color:#f2b705}
header.top .who{margin-left:auto;display:flex;align-items:center;gap:.6rem;font-size:.9rem}
header.top form{margin:0}
main{padding:1rem 1.2rem 3rem;max-width:78rem}
main.narrow{max-width:30rem;margin:3rem auto}
h1{font-size:1.5rem;margin:.3rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;border-bottom:1px solid var(--line)}
th{background:var(--soft);font-weight:600}
td.num{text-align:right}
.muted,.utc{color:var(--muted)}.utc{font-size:.85rem;display:block}
.badge{display:inline-block;padding:0 .45rem;border-radius:.7rem;font-size:.85rem;border:1px solid currentColor}
.s-scheduled{color:var(--accent)}.s-reduced,.s-frozen{color:var(--warn)}.s-revoked,.s-failed{color:var(--bad)}
.s-done,.s-cancelled,.s-reinstated{color:var(--ok)}.s-held{color:var(--warn)}
.late{color:var(--bad);font-weight:600}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:end;background:var(--soft);padding:.7rem;border-radius:.4rem}
form.filters label{display:flex;flex-direction:column;font-size:.9rem}
input,select,button{font:inherit}
input[type=text],input[type=password],input[type=search],input[type=number],select{padding:.35rem .45rem;border:1px solid #8a949e;border-radius:.3rem}
button{padding:.35rem .9rem;border-radius:.3rem;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad)}
.login label{display:block;font-weight:600;margin:.8rem 0 .3rem}
.login input{width:100%;box-sizing:border-box}
.login button{margin-top:.8rem}
.error{background:#fdecea;border:1px solid var(--bad);color:#7a1712;padding:.6rem .8rem;border-radius:.3rem}
.ok{background:#e6f4ea;border:1px solid var(--ok);color:#0c4a1f;padding:.6rem .8rem;border-radius:.3rem}
.decide{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.decide form{display:flex;gap:.4rem;align-items:center;margin:0}
.decide label{font-size:.9rem}
svg.timeline{max-width:100%;height:auto;background:var(--soft);border-radius:.4rem}
svg.timeline line{stroke:#8a949e;stroke-width:2}
svg.timeline circle{stroke-width:3;fill:#fff;stroke:var(--accent)}
svg.timeline circle.done{fill:var(--ok);stroke:var(--ok)}
svg.timeline circle.failed{fill:var(--bad);stroke:var(--bad)}
svg.timeline circle.cancelled{fill:#c8cdd2;stroke:#8a949e}
svg.timeline circle.late{stroke:var(--bad)}
svg.timeline text{font:13px system-ui,sans-serif;fill:var(--fg);text-anchor:middle}
svg.timeline text.name{font-weight:700}
svg.timeline text.utc{fill:var(--muted);font-size:12px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88rem;word-break:break-all}
.pager{display:flex;gap:1rem;align-items:center}
`;
