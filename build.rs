//! Compact `openapi.json` for embedding: the served document is the same JSON without the
//! indentation (about half the bytes the wasm would otherwise carry).
use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=openapi.json");
    let src = fs::read_to_string("openapi.json").expect("read openapi.json");
    let mut out = String::with_capacity(src.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in src.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    fs::write(Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("openapi.min.json"), out).expect("write");
}
