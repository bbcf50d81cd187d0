//! Which library stage/load pairs get a usable element table at 48 kHz default quality (the rest
//! run the exact solver every step).
use loadline::dsp::{Engine, Quality};
use loadline::library;
fn main() {
    let (mut yes, mut coarse, mut no) = (0, 0, Vec::new());
    for s in library::stages() {
        for l in library::loads() {
            let mut e = Engine::new(48_000.0, Quality::Default, &l.network, &s.params, 1).unwrap();
            let mut x: Vec<f64> = (0..24_000).map(|k| 0.5 * (k as f64 * 0.13).sin()).collect();
            e.process_block_f64(&mut x);
            if e.table_in_use() {
                yes += 1;
                coarse += (e.table_intervals() == Some(1024)) as usize;
            } else {
                no.push(format!("{} into {}", s.id, l.id));
            }
        }
    }
    println!("usable {yes} (coarse {coarse}), not {}: {:?}", no.len(), no);
}
