//! `pbkdf2-native ITERATIONS REPS` — time PBKDF2-HMAC-SHA256 (32-byte output, 16-byte salt) with
//! RustCrypto `pbkdf2` 0.13 + `sha2` 0.11, the crates users-edge runs inside its wasm, natively.
//! Prints one JSON line: {"iterations", "reps", "median_ms", "min_ms", "samples_ms"}.
use std::time::Instant;

fn main() {
    let mut args = std::env::args();
    args.next(); // the program name
    let iterations: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(600_000);
    let reps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let (password, salt) = (b"correct horse battery staple", [7u8; 16]);
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &salt, 1_000, &mut out); // warm-up
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &salt, iterations, &mut out);
            std::hint::black_box(&out);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let shown: Vec<String> = samples.iter().map(|s| format!("{s:.2}")).collect();
    samples.sort_by(f64::total_cmp);
    println!(
        "{{\"iterations\":{iterations},\"reps\":{reps},\"median_ms\":{:.3},\"min_ms\":{:.3},\"samples_ms\":[{}]}}",
        samples[samples.len() / 2],
        samples[0],
        shown.join(",")
    );
}
