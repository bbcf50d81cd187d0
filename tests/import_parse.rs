//! The impedance-file parser: formats, delimiters, encodings, and errors that name the line.

use loadline::dsp::network::log_grid;
use loadline::import::{import_impedance, read_samples, ErrorKind, Format};

/// A smooth curve (a 32 Ω dynamic-like shape) as (Hz, Ω, degrees) rows over 20 Hz–20 kHz.
fn rows(n: usize) -> Vec<(f64, f64, f64)> {
    log_grid(20.0, 20_000.0, n)
        .map(|f| {
            let x = (f / 90.0f64).ln();
            (f, 30.0 + 30.0 / (1.0 + 4.0 * x * x), -20.0 * x / (1.0 + x * x))
        })
        .collect()
}

fn zma(n: usize) -> String {
    let mut s = String::from("* test curve\n* Freq(Hz) Z(Ohms) Phase(degrees)\n");
    for (f, m, p) in rows(n) {
        s += &format!("{f} {m} {p}\n");
    }
    s
}

fn err(text: impl AsRef<[u8]>) -> (ErrorKind, Option<usize>, String) {
    let e = read_samples(text.as_ref()).unwrap_err();
    (e.kind, e.line, e.to_string())
}

#[test]
fn zma_rew_and_csv_are_detected() {
    let (f, s, rec, _) = read_samples(zma(50).as_bytes()).unwrap();
    assert_eq!((f, s.len(), rec), (Format::Zma, 50, false));

    let mut rew = String::from("* Measurement data measured by REW V5.20.13\r\n* Source: impedance jig\r\n* Freq(Hz), Z(ohms), Phase(degrees)\r\n");
    for (f, m, p) in rows(40) {
        rew += &format!("{f:.6}, {m:.4}, {p:.3}\r\n");
    }
    let (f, s, _, _) = read_samples(rew.as_bytes()).unwrap();
    assert_eq!((f, s.len()), (Format::Rew, 40));

    let mut csv = String::from("\u{feff}Frequency (Hz);Impedance (Ohm);Phase (deg)\n");
    for (f, m, p) in rows(30) {
        csv += &format!("{};{};{}\n", format!("{f:.3}").replace('.', ","), format!("{m:.4}").replace('.', ","), format!("{p:.3}").replace('.', ","));
    }
    let (f, s, _, _) = read_samples(csv.as_bytes()).unwrap();
    assert_eq!((f, s.len()), (Format::Csv, 30));
    assert!((s[0].freq_hz - 20.0).abs() < 1e-9 && (s[0].z.norm() - rows(30)[0].1).abs() < 1e-3);

    // Columns in another order, named by the header; tabs; phase in radians.
    let mut tab = String::from("phase_rad\tfreq_hz\timpedance_ohm\n");
    for (f, m, p) in rows(20) {
        tab += &format!("{}\t{f}\t{m}\n", p.to_radians());
    }
    let (_, s, _, _) = read_samples(tab.as_bytes()).unwrap();
    let want = rows(20)[3];
    assert!((s[3].freq_hz - want.0).abs() < 1e-9 && (s[3].z.arg().to_degrees() - want.2).abs() < 1e-6);

    // Real and imaginary columns.
    let mut ri = String::from("Freq,Re,Im\n");
    for (f, m, p) in rows(20) {
        let z = num_complex::Complex64::from_polar(m, p.to_radians());
        ri += &format!("{f},{},{}\n", z.re, z.im);
    }
    let (_, s, _, _) = read_samples(ri.as_bytes()).unwrap();
    assert!((s[5].z.norm() - rows(20)[5].1).abs() < 1e-9);

    // UTF-16 with BOM, CR-only line ends.
    let cr = zma(20).replace('\n', "\r");
    let mut u16 = vec![0xFF, 0xFE];
    u16.extend(cr.encode_utf16().flat_map(|u| u.to_le_bytes()));
    assert_eq!(read_samples(&u16).unwrap().1.len(), 20);
}

#[test]
fn magnitude_only_and_zero_phase_are_reconstructed() {
    let two: String = rows(40).iter().map(|(f, m, _)| format!("{f}\t{m}\n")).collect();
    let (_, s, rec, notes) = read_samples(two.as_bytes()).unwrap();
    assert!(rec && notes.iter().any(|n| n.contains("phase reconstructed")));
    assert!(s.iter().any(|s| s.z.arg().abs() > 0.05), "reconstruction gave a flat phase");
    let zero: String = rows(40).iter().map(|(f, m, _)| format!("{f} {m} 0\n")).collect();
    let (_, _, rec, notes) = read_samples(zero.as_bytes()).unwrap();
    assert!(rec && notes.iter().any(|n| n.contains("all-zero phase")));
}

#[test]
fn errors_name_the_line_and_the_problem() {
    let base = zma(20); // 2 header lines, data from line 3
    let with_line = |k: usize, repl: &str| -> String {
        base.lines().enumerate().map(|(i, l)| if i + 1 == k { repl.to_string() } else { l.to_string() }).collect::<Vec<_>>().join("\n")
    };
    let (k, l, m) = err(with_line(7, "1000 abc 3"));
    assert_eq!((k, l), (ErrorKind::NotNumeric, Some(7)), "{m}");
    assert!(m.contains("line 7") && m.contains("abc"), "{m}");
    assert_eq!(err(with_line(5, "500 -3 0")).0, ErrorKind::BadImpedance);
    assert_eq!(err(with_line(5, "500 0 0")).1, Some(5));
    assert_eq!(err(with_line(5, "0 30 0")).0, ErrorKind::BadFrequency);
    let (k, l, m) = err(with_line(9, "25 30 0"));
    assert_eq!((k, l), (ErrorKind::NotIncreasing, Some(9)), "{m}");
    assert!(m.contains("not increasing"), "{m}");
    let (k, l, m) = err(with_line(6, "300 NaN 0"));
    assert_eq!((k, l), (ErrorKind::NotFinite, Some(6)), "{m}");
    assert!(m.contains("NaN"));
    assert_eq!(err(with_line(6, "300 inf 0")).0, ErrorKind::NotFinite);
    assert_eq!(err(with_line(6, "300 30 200")).0, ErrorKind::BadPhase);
    // Passivity: a phase well past ±90° (a negative real part) is refused with its line; a point
    // straying just past it is clamped with a note.
    let (k, l, m) = err(with_line(8, "400 30 120"));
    assert_eq!((k, l), (ErrorKind::NotPassive, Some(8)), "{m}");
    assert!(m.contains("120") && m.contains("passive"), "{m}");
    assert_eq!(err(with_line(8, "400 30 -93")).0, ErrorKind::NotPassive);
    let f8 = base.lines().nth(7).unwrap().split_whitespace().next().unwrap();
    let (_, s, _, notes) = read_samples(with_line(8, &format!("{f8} 30 91")).as_bytes()).unwrap();
    assert!(s.iter().all(|p| p.z.re >= 0.0));
    assert!(notes.iter().any(|n| n.contains("clamped")), "{notes:?}");
    assert_eq!(err(with_line(6, "300")).0, ErrorKind::MissingColumn);
    assert_eq!(err("").0, ErrorKind::Empty);
    assert_eq!(err("* only a comment\n\n   \n").0, ErrorKind::Empty);
    let (k, _, m) = err(zma(5));
    assert_eq!(k, ErrorKind::TooFewPoints, "{m}");
    let narrow: String = log_grid(1000.0, 2000.0, 20).map(|f| format!("{f} 30 0\n")).collect();
    assert_eq!(err(narrow).0, ErrorKind::RangeTooNarrow);
    let junk: Vec<u8> = (0..400u32).map(|i| (i * 37 % 256) as u8).collect();
    assert_eq!(err(junk).0, ErrorKind::Binary);
    let mut nul = zma(20).into_bytes();
    nul[60] = 0;
    assert_eq!(err(nul).0, ErrorKind::Binary);
    let spl = "* Measurement data measured by REW\n* Freq(Hz) SPL(dB) Phase(degrees)\n20 80 0\n";
    let (k, l, _) = err(spl);
    assert_eq!((k, l), (ErrorKind::NotImpedance, Some(2)));
}

#[test]
fn import_reports_fit_and_notes() {
    // Magnitude only, so the phase is the consistent (minimum-phase) one and a passive fit exists.
    let text: String = rows(120).iter().map(|(f, m, _)| format!("{f} {m}\n")).collect();
    let c = import_impedance(text).unwrap();
    assert!(c.phase_reconstructed);
    assert!(c.fit.max_mag_error_db < 0.25 && c.fit.max_phase_error_deg < 3.0, "{:?}", c.fit);
    assert!(c.notes.iter().any(|n| n.contains("max |Z| error")));
    assert!(c.fit.extrapolation.contains("Outside"));
    c.network.validate().unwrap();
}
