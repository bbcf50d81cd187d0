//! Build a headphone load from R, L and C (a dynamic driver: voice-coil resistance and inductance
//! in series with its resonance as a parallel RLC) and print its impedance over frequency.
//!
//! `cargo run --release --example custom_load`

use loadline::dsp::network::build::{c, l, parallel, r, series};
use loadline::dsp::network::log_grid;

fn main() {
    // 30 Ω at DC, a 90 Ω peak at its 90 Hz resonance, a gentle inductive rise at the top.
    let driver = series(vec![r(30.0), l(60e-6), parallel(vec![r(60.0), l(12e-3), c(260e-6)])]);
    driver.validate().expect("a valid network");
    println!("{:>9}  {:>8}  {:>7}", "Hz", "|Z| Ω", "phase °");
    for f_hz in log_grid(20.0, 20_000.0, 16) {
        let z = driver.impedance(f_hz);
        println!("{f_hz:>9.1}  {:>8.2}  {:>7.1}", z.norm(), z.arg().to_degrees());
    }
}
