//! Property tests: the parser and the fitter never panic, whatever the input, and whatever they
//! accept becomes a valid passive network. Failing cases proptest finds are kept in
//! `tests/import_fuzz.proptest-regressions` (commit it with the fix).

use loadline::import::{import_impedance, read_samples};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Arbitrary bytes: an error or a curve, never a panic.
    #[test]
    fn parser_survives_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = read_samples(&bytes);
    }

    /// Text made of plausible tokens in random order (numbers, signs, NaN, separators, comments).
    #[test]
    fn parser_survives_token_soup(toks in proptest::collection::vec(
        prop_oneof![
            Just("*".to_string()), Just("\n".to_string()), Just("\r\n".to_string()), Just(",".to_string()),
            Just(";".to_string()), Just("\t".to_string()), Just(" ".to_string()), Just("NaN".to_string()),
            Just("-inf".to_string()), Just("Freq(Hz)".to_string()), Just("Z(ohms)".to_string()),
            Just("\u{feff}".to_string()), (-1e6f64..1e6).prop_map(|v| v.to_string()),
        ], 0..300)) {
        let _ = read_samples(toks.concat().as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random but valid-looking tables (increasing frequencies, positive |Z|, any phase within
    /// ±90°, or none): the fitter returns a valid network or a clean error.
    #[test]
    fn fitter_survives_random_tables(
        start in 1.0f64..1500.0,
        ratio in 1.001f64..1.5,
        n in 8usize..200,
        mags in proptest::collection::vec(1e-3f64..1e6, 200),
        phases in proptest::collection::vec(-90.0f64..90.0, 200),
        with_phase in any::<bool>(),
    ) {
        let mut text = String::new();
        let mut f = start;
        for k in 0..n {
            if with_phase {
                text += &format!("{f} {} {}\n", mags[k], phases[k]);
            } else {
                text += &format!("{f} {}\n", mags[k]);
            }
            f *= ratio;
        }
        if let Ok(c) = import_impedance(&text) {
            prop_assert!(c.network.validate().is_ok());
            prop_assert!(c.fit.max_mag_error_db.is_finite());
            for s in &c.samples {
                prop_assert!(c.network.impedance(s.freq_hz).re >= -1e-9 * c.network.impedance(s.freq_hz).norm());
            }
        }
    }
}
