// A small SVG writer for the benchmark chart: grouped horizontal-free bar panels, no libraries.

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Round up to 1, 2 or 5 × 10^k. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/**
 * One panel of grouped vertical bars.
 * groups: [{label, values: [{series, value, hatch?}]}]; series colours from `colors`.
 */
function panel({ x, y, w, h, title, unit, groups, colors }) {
  const out = [];
  const max = niceMax(Math.max(...groups.flatMap((g) => g.values.map((v) => v.value))));
  const left = 48;
  const plotW = w - left - 8;
  const plotH = h - 56;
  const top = y + 28;
  out.push(`<text x="${x + w / 2}" y="${y + 16}" text-anchor="middle" class="title">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const yy = top + plotH - (plotH * i) / 4;
    out.push(`<line x1="${x + left}" x2="${x + w - 8}" y1="${yy}" y2="${yy}" class="grid"/>`);
    out.push(`<text x="${x + left - 4}" y="${yy + 4}" text-anchor="end" class="tick">${fmt(v)}</text>`);
  }
  out.push(`<text x="${x + 12}" y="${top + plotH / 2}" transform="rotate(-90 ${x + 12} ${top + plotH / 2})" text-anchor="middle" class="tick">${esc(unit)}</text>`);
  const gw = plotW / groups.length;
  groups.forEach((g, gi) => {
    const n = g.values.length;
    const bw = Math.min(28, (gw - 12) / n);
    const gx = x + left + gi * gw + (gw - bw * n) / 2;
    g.values.forEach((v, vi) => {
      const bh = (plotH * v.value) / max;
      const bx = gx + vi * bw;
      const by = top + plotH - bh;
      const fill = v.hatch ? `url(#hatch-${colors[v.series].slice(1)})` : colors[v.series];
      out.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${fill}" stroke="${colors[v.series]}"><title>${esc(`${v.series} ${g.label}: ${fmt(v.value)} ${unit}`)}</title></rect>`);
      out.push(`<text x="${(bx + (bw - 2) / 2).toFixed(1)}" y="${(by - 3).toFixed(1)}" text-anchor="middle" class="val">${fmt(v.value)}</text>`);
    });
    out.push(`<text x="${x + left + gi * gw + gw / 2}" y="${top + plotH + 16}" text-anchor="middle" class="tick">${esc(g.label)}</text>`);
  });
  return out.join("\n");
}

/** panels: [{title, unit, groups}]; laid out in a grid of `cols` columns. */
export function chart({ title, subtitle, panels, colors, cols = 2, panelW = 520, panelH = 300 }) {
  const rows = Math.ceil(panels.length / cols);
  const W = cols * panelW + 20;
  const H = rows * panelH + 90;
  const defs = Object.values(colors)
    .map((c) => `<pattern id="hatch-${c.slice(1)}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="white"/><line x1="0" y1="0" x2="0" y2="6" stroke="${c}" stroke-width="3"/></pattern>`)
    .join("");
  const legend = Object.entries(colors)
    .map(([name, c], i) => `<rect x="${20 + i * 170}" y="52" width="14" height="14" fill="${c}"/><text x="${40 + i * 170}" y="63" class="tick">${esc(name)}</text>`)
    .join("\n");
  const body = panels
    .map((p, i) => panel({ ...p, colors, x: 10 + (i % cols) * panelW, y: 80 + Math.floor(i / cols) * panelH, w: panelW, h: panelH }))
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">
<style>.title{font-size:14px;font-weight:600}.tick{font-size:11px;fill:#333}.val{font-size:9px;fill:#333}.grid{stroke:#ddd;stroke-width:1}.head{font-size:17px;font-weight:700}.sub{font-size:11px;fill:#555}</style>
<defs>${defs}</defs>
<rect width="100%" height="100%" fill="white"/>
<text x="20" y="24" class="head">${esc(title)}</text>
<text x="20" y="42" class="sub">${esc(subtitle)}</text>
${legend}
${body}
</svg>
`;
}
