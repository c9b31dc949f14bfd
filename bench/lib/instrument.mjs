// Count JS↔wasm boundary crossings per request in users-edge, without touching src/ or build/:
// copy build/ and patch the copy of the wasm-bindgen glue (build/index.js) so that
//   - every import the wasm calls (wasm → JS) and every export JS calls (JS → wasm) bumps a counter;
//   - the fetch handler adds an `x-bench-crossings` header with this request's counts.
// Measured at concurrency 1, so a request's delta is its own. Returns null (with a reason) when
// the glue doesn't have the shape this patcher knows.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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
  return new Response(res.body, { status: res.status, headers });
}
`;

export function instrument(buildDir, outDir) {
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
