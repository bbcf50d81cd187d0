use loadline::dsp::network::log_grid;
use loadline::import::{fit, vfit, realize};
use num_complex::Complex64;
#[test]
fn dbg() {
    let t = std::fs::read_to_string("/tmp/ll/bad.txt").unwrap();
    let net = loadline::library::netlist::parse(t.trim()).unwrap();
    let f: Vec<f64> = log_grid(20.0, 20000.0, 241).collect();
    let z: Vec<Complex64> = f.iter().map(|&f| net.impedance(f)).collect();
    for (i, zz) in z.iter().enumerate().step_by(20) { println!("{} {} {}", f[i], zz.norm(), zz.arg().to_degrees()); }
    let w_ref = 2.0 * std::f64::consts::PI * (20.0f64 * 20000.0).sqrt();
    let z_ref = (z.iter().map(|z| z.norm().ln()).sum::<f64>() / z.len() as f64).exp();
    let s: Vec<Complex64> = f.iter().map(|&f| Complex64::new(0.0, 2.0 * std::f64::consts::PI * f / w_ref)).collect();
    let zn: Vec<Complex64> = z.iter().map(|z| z / z_ref).collect();
    let w: Vec<f64> = zn.iter().map(|t| 1.0 / t.norm()).collect();
    for order in 1..14 {
        let p = vfit::identify(&s, &zn, &w, vfit::Poles::start(order, s[0].im, s[240].im), 12);
        println!("order {order}: poles {:?}", p);
        if let Some(p) = p {
            let sec = realize::fit(&p, &s, &zn, &w, true);
            println!("  sec {:?}", sec.is_some());
            if let Some(sec) = sec { if let Some(n) = realize::to_network(&sec, realize::Form::Impedance, z_ref, w_ref) { let r = fit::report(&n, &f, &z, order, realize::Form::Impedance); println!("  mag {:.3} ph {:.2} div {:.3}", r.max_mag_error_db, r.max_phase_error_deg, r.max_divider_error_db); } }
        }
    }
    let _ = fit::fit_network(&f, &z);
}
