// The wasm code one request touches: which functions V8 compiles for the first request through a
// fresh instance (it compiles a wasm function lazily, on its first call), and how large they are.
// What a request touches is what has to come back into the CPU's caches on every request under
// load, which is most of what the wasm costs in the request path (BENCHMARKS.md, 4b against 4d).
//
//   node bench/touched.mjs DIR TRACE      a markdown table for the build in DIR (built with
//                                         KEEP_NAMES=1, scripts/build.sh), driven by the traced
//                                         request of TRACE (bench/results.json: crossings.trace)
// bench.mjs calls `touched(dir, trace)`; `--drive DIR TRACE METHOD` is the child it runs under
// `--trace-wasm-compilation-times`, which prints a line per function compiled.
import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { pathToFileURL, fileURLToPath } from "node:url";
import { KEYS } from "./lib/serve.mjs";

const PATCH_BODY = '{"user":{"based_in":"Paris, FR"}}';

/** Function index → name, from the wasm's `name` section (function names, subsection 1). */
export function functionNames(bytes) {
  let p = 8;
  const leb = () => {
    let r = 0;
    let s = 0;
    let x;
    do {
      x = bytes[p++];
      r += (x & 0x7f) * 2 ** s;
      s += 7;
    } while (x & 0x80);
    return r;
  };
  const names = new Map();
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = leb();
    const end = p + size;
    if (id === 0) {
      const len = leb();
      const section = bytes.subarray(p, p + len).toString();
      p += len;
      while (section === "name" && p < end) {
        const sub = bytes[p++];
        const subEnd = leb() + p;
        if (sub === 1) {
          for (let n = leb(); n > 0; n--) {
            const index = leb();
            const l = leb();
            names.set(index, bytes.subarray(p, p + l).toString());
            p += l;
          }
        }
        p = subEnd;
      }
    }
    p = end;
  }
  return names;
}

/** The child: one request through a fresh instance, then the same request again, marked apart. */
async function drive(dir, tracePath, method) {
  const trace = JSON.parse(readFileSync(tracePath, "utf8"))[method];
  const glue = await import(pathToFileURL(`${dir}/bindgen/glue.js`).href);
  glue.initSync({ module: new WebAssembly.Module(readFileSync(`${dir}/index_bg.wasm`)) });
  const shape = JSON.parse(glue.describe());
  glue.configure(JSON.stringify({ vars: Object.fromEntries(shape.vars.map((v) => [v, null])), bindings: ["API_KEYS", "DB"] }));
  const body = method === "PATCH" ? PATCH_BODY : "";
  const head = `${method}\n/api/v1/users/2\nb\nx-api-key:${KEYS.user}\n${body ? `content-type:application/json\ncontent-length:${body.length}\n` : ""}\n`;
  const bytes = new TextEncoder().encode(head + body);
  for (const round of ["first", "second"]) {
    // Written straight to fd 1, in order with V8's own lines.
    writeSync(1, `=== ${round}\n`);
    let step = glue.start(1, bytes, Date.now());
    for (const t of trace.filter((x) => x.fn === "resume")) step = glue.resume(1, t.reply, Date.now());
    if (!step.startsWith('{"op":"respond","status":200')) throw new Error(`the traced ${method} did not end in a 200: ${step.slice(0, 200)}`);
  }
  writeSync(1, "=== end\n");
}

/** Which part of the program a function belongs to, by its (demangled) path. */
function part(name) {
  const m = name.match(/^<?(?:&mut |&)?([a-z_0-9]+)(?:\[[0-9a-f]+\])?::([a-z_0-9]+)/);
  if (!m) return name.includes("multivalue shim") ? "wasm-bindgen's export shims" : "other";
  const [, crate, module] = m;
  if (crate === "users_edge") return `users-edge: ${module}`;
  if (["core", "alloc", "std"].includes(crate)) return "Rust's core, alloc and std";
  if (crate.startsWith("serde")) return "serde, serde_json";
  if (["sha2", "digest", "hmac", "block_buffer"].includes(crate)) return "sha2, digest, hmac";
  return crate;
}

/** The functions compiled in one round of the child's output. */
function compiled(output, names, round) {
  const out = [];
  let current = null;
  for (const line of output.split("\n")) {
    if (line.startsWith("=== ")) current = line.slice(4);
    const m = line.match(/Compiled function \S+#(\d+) using (\w+).*bodysize (\d+) codesize (\d+)/);
    if (m && current === round) out.push({ name: names.get(Number(m[1])) ?? `#${m[1]}`, tier: m[2], body: Number(m[3]), code: Number(m[4]) });
  }
  return out;
}

/** Per method: the functions the first request compiles, their bytes, by part, and the largest. */
export function touched(dir, trace) {
  const tracePath = `${dir}/trace.json`;
  writeFileSync(tracePath, JSON.stringify(trace));
  const names = functionNames(readFileSync(`${dir}/index_bg.wasm`));
  const self = fileURLToPath(import.meta.url);
  const out = {};
  for (const method of ["PATCH", "GET"]) {
    // Into a file: V8's lines and the child's markers then keep their order.
    const logPath = `${dir}/compiled-${method}.log`;
    const fd = openSync(logPath, "w");
    try {
      execFileSync(process.execPath, ["--trace-wasm-compilation-times", self, "--drive", dir, tracePath, method], { stdio: ["ignore", fd, "inherit"] });
    } finally {
      closeSync(fd);
    }
    const output = readFileSync(logPath, "utf8");
    const first = compiled(output, names, "first");
    const byPart = new Map();
    for (const f of first) {
      const p = byPart.get(part(f.name)) ?? { functions: 0, body: 0 };
      p.functions += 1;
      p.body += f.body;
      byPart.set(part(f.name), p);
    }
    out[method] = {
      functions: first.length,
      body: first.reduce((a, f) => a + f.body, 0),
      liftoff: first.filter((f) => f.tier === "Liftoff").reduce((a, f) => a + f.code, 0),
      second: compiled(output, names, "second").length,
      parts: [...byPart].sort((a, b) => b[1].body - a[1].body),
      largest: first.sort((a, b) => b.body - a.body).slice(0, 12).map((f) => [f.name.replace(/::h[0-9a-f]{16}$/, ""), f.body]),
    };
  }
  return out;
}

/** The markdown section. */
export function touchedTable(t) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const parts = [...new Set([...t.PATCH.parts, ...t.GET.parts].map(([p]) => p))];
  const bodyOf = (m, p) => t[m].parts.find(([q]) => q === p)?.[1].body ?? 0;
  parts.sort((a, b) => bodyOf("PATCH", b) + bodyOf("GET", b) - bodyOf("PATCH", a) - bodyOf("GET", a));
  const row = (cells) => `| ${cells.join(" | ")} |`;
  const lines = [
    row(["", "PATCH", "GET"]),
    row(["---", "---", "---"]),
    row(["functions the first request compiles (V8 compiles a wasm function on its first call)", t.PATCH.functions, t.GET.functions]),
    row(["… their wasm bodies", kb(t.PATCH.body), kb(t.GET.body)]),
    row(["… their machine code, as first compiled (Liftoff, V8's baseline tier)", kb(t.PATCH.liftoff), kb(t.GET.liftoff)]),
    row(["functions the second request compiles (none: it runs only what the first did)", t.PATCH.second, t.GET.second]),
    ...parts.map((p) => row([`bodies in ${p}`, kb(bodyOf("PATCH", p)), kb(bodyOf("GET", p))])),
  ];
  const largest = (m) => t[m].largest.map(([n, b]) => `${(b / 1024).toFixed(1)} KiB \`${n.replaceAll("|", "\\|").slice(0, 110)}\``).join("; ");
  return `${lines.join("\n")}\n\nThe largest bodies a PATCH touches: ${largest("PATCH")}.\n\nThe largest a GET touches: ${largest("GET")}.`;
}

if (process.argv[2] === "--drive") {
  await drive(process.argv[3], process.argv[4], process.argv[5]);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, tracePath] = process.argv.slice(2);
  if (!dir || !tracePath) {
    console.error("usage: node bench/touched.mjs DIR TRACE (DIR built with BUILD_DIR=DIR KEEP_NAMES=1 bash scripts/build.sh)");
    process.exit(2);
  }
  const trace = JSON.parse(readFileSync(tracePath, "utf8"));
  console.log(touchedTable(touched(dir, trace.crossings?.trace ?? trace)));
}
