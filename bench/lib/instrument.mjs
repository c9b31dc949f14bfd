// Count JS↔wasm boundary crossings per request in users-edge, without touching src/ or build/:
// copy the build and patch the copy of the wasm-bindgen glue so that
//   - every import the wasm calls (wasm → JS) and every export JS calls (JS → wasm) bumps a counter;
//   - the fetch handler adds an `x-bench-crossings` header with this request's counts.
// Measured at concurrency 1, so a request's delta is its own. Two shapes of build are known: this
// repository's (src/edge/worker.mjs + build/bindgen/glue.js) and worker-build's single minified
// build/index.js (an older users-edge, benchmarked as "before"). Returns {error} for anything else.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const RUNTIME = `
function __benchState() {
  return (globalThis.__benchCrossings ??= { imports: 0, exports: 0, byName: new Map() });
}
function __benchName(name) {
  // strip wasm-bindgen's hash suffixes: __wbg_get_0ae635d02d232017 -> get
  return name.replace(/^__wbg_/, "").replace(/_[0-9a-f]{16}$/, "");
}
function __benchWrapImports(imports) {
  const st = __benchState();
  for (const mod of Object.values(imports)) {
    for (const [name, f] of Object.entries(mod)) {
      if (typeof f !== "function") continue;
      const short = "js:" + __benchName(name);
      mod[name] = function (...args) {
        st.imports++;
        st.byName.set(short, (st.byName.get(short) ?? 0) + 1);
        return f.apply(this, args);
      };
    }
  }
  return imports;
}
function __benchWrapExports(exports) {
  const st = __benchState();
  const out = {};
  for (const [name, v] of Object.entries(exports)) {
    if (typeof v !== "function") { out[name] = v; continue; }
    const short = "wasm:" + __benchName(name);
    out[name] = function (...args) {
      st.exports++;
      st.byName.set(short, (st.byName.get(short) ?? 0) + 1);
      return v.apply(this, args);
    };
  }
  return out;
}
async function __benchFetch(run) {
  const st = __benchState();
  const i0 = st.imports, e0 = st.exports, names0 = new Map(st.byName);
  const res = await run();
  const top = [...st.byName].map(([n, c]) => [n, c - (names0.get(n) ?? 0)]).filter(([, c]) => c > 0)
    .sort((a, b) => b[1] - a[1]);
  const headers = new Headers(res.headers);
  headers.set("x-bench-crossings", JSON.stringify({ imports: st.imports - i0, exports: st.exports - e0, top }));
  if (st.trace) headers.set("x-bench-trace", encodeURIComponent(JSON.stringify(st.trace)));
  st.trace = null;
  return new Response(res.body, { status: res.status, headers });
}
/** The host's steps of the request in flight (concurrency 1): what went in and what came out. */
function __benchTrace(fn, args, out) {
  const st = __benchState();
  if (fn === "start") st.trace = [];
  const reply = fn !== "resume" ? undefined : typeof args[1] === "string" ? args[1] : new TextDecoder().decode(args[1]);
  st.trace?.push({ fn, reply, out });
  return out;
}
`;

export function instrument(buildDir, outDir) {
  return existsSync(join(buildDir, "bindgen/glue.js")) ? instrumentHost(buildDir, outDir) : instrumentWorkerBuild(buildDir, outDir);
}

/** This repository's build: wrap the glue's imports and exports, and the host's fetch. */
function instrumentHost(buildDir, outDir) {
  let glue = readFileSync(join(buildDir, "bindgen/glue.js"), "utf8");
  if (!glue.includes("function __wbg_get_imports() {")) return { error: "no `function __wbg_get_imports()` in the glue" };
  glue = glue.replace("function __wbg_get_imports() {", "function __wbg_get_imports() { return __benchWrapImports(__wbg_get_imports_unwrapped()); }\nfunction __wbg_get_imports_unwrapped() {");
  let n = 0;
  glue = glue.replace(/\bwasm = (\w+)\.exports;/g, (_, inst) => (n++, `wasm = __benchWrapExports(${inst}.exports);`));
  if (n === 0) return { error: "no `wasm = instance.exports;` in the glue" };
  mkdirSync(join(outDir, "bindgen"), { recursive: true });
  writeFileSync(join(outDir, "bench-runtime.mjs"), RUNTIME.replace(/^(async )?function /gm, "export $1function "));
  writeFileSync(join(outDir, "bindgen/glue.js"), `import { __benchWrapImports, __benchWrapExports } from "../bench-runtime.mjs";\n${glue}`);
  // Trace the steps: each call the wasm hands out (exact SQL and parameters) and each reply.
  const host = readFileSync(join(ROOT, "src/edge/worker.mjs"), "utf8");
  const importLine = /import \{([^}]*)\} from "\.\/bindgen\/glue\.js";/;
  if (!importLine.test(host)) return { error: "no glue import in src/edge/worker.mjs" };
  const traced = host.replace(importLine, (_, names) =>
    `import {${names.replace(/\bstart\b/, "start as __start").replace(/\bresume\b/, "resume as __resume")}} from "./bindgen/glue.js";\n` +
    `import { __benchTrace } from "./bench-runtime.mjs";\n` +
    `const start = (...a) => __benchTrace("start", a, __start(...a));\nconst resume = (...a) => __benchTrace("resume", a, __resume(...a));`);
  writeFileSync(join(outDir, "worker.mjs"), traced);
  copyFileSync(join(buildDir, "index_bg.wasm"), join(outDir, "index_bg.wasm"));
  writeFileSync(
    join(outDir, "index.js"),
    `import host from "./worker.mjs";\nimport { __benchFetch } from "./bench-runtime.mjs";\n` +
      `export default { fetch(request, env, ctx) { return __benchFetch(() => host.fetch(request, env, ctx)); } };\n`,
  );
  return { scriptPath: join(outDir, "index.js") };
}

/** worker-build 0.8's single minified index.js (users-edge up to commit 986bf2e). */
function instrumentWorkerBuild(buildDir, outDir) {
  const src = readFileSync(join(buildDir, "index.js"), "utf8");
  let patched = src;
  let n = 0;
  patched = patched.replace(/new WebAssembly\.Instance\((\w+),(\w+)\(\)\)/g, (_, mod, imp) => {
    n++;
    return `new WebAssembly.Instance(${mod},__benchWrapImports(${imp}()))`;
  });
  if (n === 0) return { error: "no `new WebAssembly.Instance(module, imports())` in the glue" };
  let m = 0;
  patched = patched.replace(/\b(\w+)=(\w+)\.exports(?=[;,])/g, (_, lhs, inst) => {
    m++;
    return `${lhs}=__benchWrapExports(${inst}.exports)`;
  });
  if (m === 0) return { error: "no `x=instance.exports` in the glue" };
  const fetchRe = /(\w+)\.prototype\.fetch=function\((\w+)\)\{return (\w+)\.call\(this,\2,this\.env,this\.ctx\)\}/;
  if (!fetchRe.test(patched)) return { error: "no `Entrypoint.prototype.fetch=function(r){return f.call(this,r,this.env,this.ctx)}`" };
  patched = patched.replace(fetchRe, (_, cls, arg, f) =>
    `${cls}.prototype.fetch=function(${arg}){return __benchFetch(()=>${f}.call(this,${arg},this.env,this.ctx))}`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "index.js"), patched + "\n" + RUNTIME);
  copyFileSync(join(buildDir, "index_bg.wasm"), join(outDir, "index_bg.wasm"));
  return { scriptPath: join(outDir, "index.js") };
}

/**
 * "host-only": users-edge's JavaScript host with the wasm replaced by a stand-in that hands out,
 * step by step, what the real wasm handed out in the traced request (`trace`: {PATCH, GET}). The
 * host still reads the request, makes the very KV and D1 calls and builds the response: what is
 * left of users-edge's cost once its wasm costs nothing.
 */
export function hostOnly(buildDir, trace, outDir, calls) {
  const steps = Object.fromEntries(Object.entries(trace).map(([m, t]) => [m, t.map((s) => s.out)]));
  // What the wasm made up for the traced request (tag, event id), made up anew per request.
  const fresh = Object.fromEntries(Object.keys(steps).map((m) => [m, calls?.[m]?.fresh ?? []]));
  mkdirSync(join(outDir, "bindgen"), { recursive: true });
  writeFileSync(
    join(outDir, "bindgen/glue.js"),
    `const STEPS = ${JSON.stringify(steps)};
const FRESH = ${JSON.stringify(fresh)};
const running = new Map();
const newValue = (v) => (v.includes("-") ? crypto.randomUUID() : crypto.randomUUID().replaceAll("-", ""));
const freshen = (r, out) => FRESH[r.method].reduce((text, v) => text.replaceAll(v, r.values[v] ??= newValue(v)), out);
let shape = null;
export function initSync() {}
export function __wbg_reset_state() {}
export function describe() { return shape; }
export function configure() {}
export function start(id, bytes) {
  const method = bytes[0] === 80 ? "PATCH" : "GET"; // the request's first byte: P(ATCH) or G(ET)
  const r = { method, i: 0, values: {} };
  running.set(id, r);
  return freshen(r, STEPS[method][0]);
}
export function resume(id) {
  const r = running.get(id);
  const out = STEPS[r.method][++r.i];
  if (r.i === STEPS[r.method].length - 1) running.delete(id);
  return freshen(r, out);
}
export function dispatch() { return '{"op":"done"}'; }
export function __set_shape(s) { shape = s; }
`,
  );
  return stubEntry(buildDir, outDir, "host-only");
}

/** The build with a clock around every call into the wasm; GET /__timing answers the totals. */
export function timed(buildDir, outDir) {
  mkdirSync(join(outDir, "bindgen"), { recursive: true });
  copyFileSync(join(buildDir, "bindgen/glue.js"), join(outDir, "bindgen/glue.js"));
  copyFileSync(join(buildDir, "index_bg.wasm"), join(outDir, "index_bg.wasm"));
  const host = readFileSync(join(ROOT, "src/edge/worker.mjs"), "utf8");
  const importLine = /import \{([^}]*)\} from "\.\/bindgen\/glue\.js";/;
  if (!importLine.test(host)) return { error: "no glue import in src/edge/worker.mjs" };
  const out = host
    .replace(importLine, (_, names) =>
      `import {${names.replace(/\bstart\b/, "start as __start").replace(/\bresume\b/, "resume as __resume")}} from "./bindgen/glue.js";\n` +
      `const T = { ms: 0, requests: 0 };\n` +
      `const clocked = (f) => (...a) => { const t = performance.now(); try { return f(...a); } finally { T.ms += performance.now() - t; } };\n` +
      `const start = clocked(__start);\nconst resume = clocked(__resume);`)
    .replace("async fetch(request, env, ctx) {", 'async fetch(request, env, ctx) {\n    if (request.url.endsWith("/__timing")) return Response.json(T);\n    T.requests++;');
  if (!out.includes("/__timing")) return { error: "no `async fetch(request, env, ctx) {` in src/edge/worker.mjs" };
  writeFileSync(join(outDir, "index.js"), out);
  return { scriptPath: join(outDir, "index.js") };
}

/** host-only's entry: the real host, its glue import pointed at the stand-in, the real shape. */
function stubEntry(buildDir, outDir) {
  const host = readFileSync(join(ROOT, "src/edge/worker.mjs"), "utf8");
  const shape = readShape(buildDir);
  if (!shape) return { error: "could not read the build's describe()" };
  writeFileSync(join(outDir, "shape.mjs"), `import { __set_shape } from "./bindgen/glue.js";\n__set_shape(${JSON.stringify(shape)});\n`);
  writeFileSync(join(outDir, "index.js"), `import "./shape.mjs";\n${host}`);
  copyFileSync(join(buildDir, "index_bg.wasm"), join(outDir, "index_bg.wasm"));
  return { scriptPath: join(outDir, "index.js") };
}

/** The build's own `describe()` output, read by instantiating its wasm once here in node. */
function readShape(buildDir) {
  try {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", `
      import { readFileSync } from "node:fs";
      const g = await import(${JSON.stringify(pathToFileURL(resolve(buildDir, "bindgen/glue.js")).href)});
      g.initSync({ module: new WebAssembly.Module(readFileSync(${JSON.stringify(resolve(buildDir, "index_bg.wasm"))})) });
      process.stdout.write(g.describe());`]);
    return out.toString();
  } catch {
    return null;
  }
}
