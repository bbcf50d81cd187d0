//! Prints how well every library load's modal filter fits the analog load at the internal rates.
use loadline::dsp::modal::ModalLoad;
use loadline::library;
fn main() {
    for l in library::loads() {
        for fs in [176_400.0, 192_000.0, 352_800.0, 384_000.0] {
            let t0 = std::time::Instant::now();
            match ModalLoad::fit(&l.network, fs) {
                Ok(m) => {
                    let r = m.report();
                    println!("{:<22} {fs:>6} {:?} err {:.4} dB {:.3}° shift {:.2e} modes {} ({:.1} ms)", l.id, m.form(), r.max_err_db, r.max_err_deg, r.passivity_shift, r.modes, t0.elapsed().as_secs_f64() * 1e3)
                }
                Err(e) => println!("{:<22} {fs} ERR {e}", l.id),
            }
        }
    }
}
