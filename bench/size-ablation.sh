#!/usr/bin/env bash
# What each part of the product costs in the wasm: builds the release wasm (scripts/build.sh, same
# profile and wasm-opt) in a scratch worktree of HEAD without one part at a time, and prints raw and
# gzip -9 sizes (node's zlib, as bench/bench.mjs measures). A part is cut out where it enters: its
# route arm in src/app/mod.rs (the compiler then drops everything only it reaches), or, for the
# Unicode stack, the calls into ICU4X and idna replaced by ASCII-only stand-ins and idna_adapter
# pinned to 1.0.0 (the release with no Unicode data). The stand-ins are for measuring only.
# Fails loudly if the code it edits has changed shape. About a minute per build.
#   bash bench/size-ablation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
WORK=$(mktemp -d /tmp/size-ablation.XXXXXX)
trap 'git -C "$ROOT" worktree remove --force "$WORK/tree" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git worktree add --detach "$WORK/tree" HEAD >/dev/null
cd "$WORK/tree"
ln -s "$ROOT/node_modules" node_modules
export CARGO_TARGET_DIR="$ROOT/target/size-ablation"

cut_line() { # file, exact text of a line to delete
  grep -qF -- "$2" "$1" || { echo "size-ablation: '$2' is no longer in $1" >&2; exit 1; }
  python3 - "$1" "$2" <<'EOF'
import sys
p, line = sys.argv[1], sys.argv[2]
s = open(p).read()
open(p, "w").write("".join(l for l in s.splitlines(True) if l.strip() != line.strip()))
EOF
}
no_scim() { cut_line src/app/mod.rs '["scim", "v2", rest @ ..] => apart(scim::serve(cx, req, rest)).await,'; }
no_operator() { cut_line src/app/mod.rs '["admin", "v1", rest @ ..] => apart(operator::serve(cx, req, rest)).await,'; }
no_zitadel() {
  cut_line src/app/mod.rs '["v2", "users", rest @ ..] => apart(zitadel::rest(cx, req, rest)).await,'
  cut_line src/app/mod.rs '["zitadel.user.v2.UserService", method] => apart(zitadel::connect(cx, req, method)).await,'
}
no_unicode() {
  cargo update --quiet -p idna_adapter --precise 1.0.0
  python3 - <<'EOF'
import re
def stub(s, sig, body):
    if sig not in s:
        raise SystemExit(f"size-ablation: {sig} is gone")
    i = s.index(sig); j = s.index("{", i); depth = 0; k = j
    while True:
        depth += {"{": 1, "}": -1}.get(s[k], 0)
        if depth == 0:
            break
        k += 1
    return s[:j] + "{ " + body + " }" + s[k + 1:]
def edit(p, f):
    s = open(p).read(); t = f(s)
    if t == s:
        raise SystemExit(f"size-ablation: nothing to change in {p}")
    open(p, "w").write(t)
def unicode(s):
    s = re.sub(r"use icu_properties[^;]*;\n", "", s)
    s = stub(s, "pub fn is_single_script", "s.is_ascii()")
    s = stub(s, "pub fn stray_mark", "nfc.chars().find(|c| !c.is_ascii())")
    s = stub(s, "pub fn compatibility_caseless", "Some(s.to_lowercase())")
    return s[: s.index("#[cfg(test)]")]
def precis(s):
    s = re.sub(r"use icu_(normalizer|properties)[^;]*;\n", "", s)
    s = stub(s, "pub fn enforce_username",
             "if s.is_empty() { return Err(Refusal::Empty) } "
             "if let Some(c) = s.chars().find(|c| !c.is_ascii_graphic()) { return Err(Refusal::CodePoint(c)) } "
             "if s.len() > 1000 { return Err(Refusal::Bidi) } Ok(s.to_lowercase())")
    return s[: s.index("/// RFC 8265 §3.3.1 step 1")]
edit("src/values/unicode.rs", unicode)
edit("src/values/precis.rs", precis)
edit("src/values/web.rs", lambda s: s.replace("idna::domain_to_ascii_strict(domain).map_err(|_| MSG.to_string())?", "domain.to_ascii_lowercase()"))
edit("Cargo.toml", lambda s: re.sub(r"(?m)^(icu_normalizer|icu_properties|idna) = .*\n", "", s))
EOF
}

build() { # label
  sed -i 's/ --lib --locked/ --lib/' scripts/build.sh # the stand-ins change Cargo.lock
  bash scripts/build.sh >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }
  node -e 'const f=require("fs"),z=require("zlib");const b=f.readFileSync(process.argv[1]);const k=(n)=>(n/1024).toFixed(1);console.log(`${process.argv[2].padEnd(48)} ${k(b.length).padStart(7)} KiB raw ${k(z.gzipSync(b,{level:9}).length).padStart(6)} KiB gzip -9`)' \
    build/index_bg.wasm "$1"
  git checkout --quiet -- . && rm -rf build
}

build "this build"
no_unicode; build "without the Unicode stack"
no_scim; build "without SCIM"
no_operator; build "without the operator API"
no_zitadel; build "without ZITADEL"
no_scim; no_operator; build "without SCIM and the operator API"
no_unicode; no_scim; no_operator; build "without Unicode, SCIM and the operator API"
no_unicode; no_scim; no_operator; no_zitadel; build "without Unicode, SCIM, operator API and ZITADEL"
