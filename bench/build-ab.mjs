// Two or more builds of users-edge (each a `scripts/build.sh` output folder), and optionally the peer,
// measured in alternating 2 s windows of wrk at c=16, so that the machine's drift falls on all alike:
// tighter than comparing targets of separate `make bench` runs. For changes to how the wasm is built
// or to the request path, before a full run records them.
//
//   BUILDS="now=build,opt3=/tmp/opt3/build" node bench/build-ab.mjs          PATCH, 16 windows each
//   BUILDS="now=build,opt3=/tmp/opt3/build" PEER=1 M=GET N=12 node bench/build-ab.mjs
//
// Prints each build's median CPU per request and its median paired ratio to the first build
// (PEER=1 also runs the peer, which `make bench` must have bundled into bench/.out/peer).
import { cpSync, existsSync, rmSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { alternate, median } from "./lib/load.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const METHOD = process.env.M ?? "PATCH";
const WINDOWS = Number(process.env.N ?? 16);

const builds = (process.env.BUILDS ?? "").split(",").filter(Boolean).map((each) => {
  const [name, dir] = each.split("=");
  const abs = isAbsolute(dir) ? dir : join(ROOT, dir);
  if (!existsSync(join(abs, "index.js"))) throw new Error(`${name}: no build at ${abs} (run scripts/build.sh there)`);
  // Miniflare loads modules from below the working directory only: each build is copied there.
  const copy = join(BENCH, ".out/build-ab", name);
  rmSync(copy, { recursive: true, force: true });
  cpSync(abs, copy, { recursive: true });
  return [name, { scriptPath: join(copy, "index.js"), wasm: true, bindings: { PBKDF2_ITERATIONS: "600000" } }];
});
if (builds.length < 2 && process.env.PEER !== "1") throw new Error('BUILDS="a=dir,b=dir[,…]": at least two builds, or one and PEER=1');
const peer = join(BENCH, ".out/peer/index.js");
if (process.env.PEER === "1") {
  if (!existsSync(peer)) throw new Error("no bundled peer in bench/.out/peer: run `make bench` first");
  builds.push(["peer", { scriptPath: peer, bindings: { PBKDF2_ITERATIONS: "100000" } }]);
}

const samples = await alternate("build-ab", Object.fromEntries(builds), METHOD, WINDOWS, 3);
const [first] = Object.keys(samples);
console.log(`${METHOD}, c=16, ${WINDOWS} alternating windows of 2 s (workerd CPU ms/req; ratio paired window by window)`);
for (const [name, xs] of Object.entries(samples)) {
  const ratios = xs.map((x, i) => x / samples[first][i]).sort((a, b) => a - b);
  const q = (p) => ratios[Math.floor(p * (ratios.length - 1))];
  console.log(`  ${name.padEnd(24)} ${median(xs).toFixed(3)}   ÷ ${first}: ${median(ratios).toFixed(3)} (${q(0.25).toFixed(2)}–${q(0.75).toFixed(2)})`);
}
