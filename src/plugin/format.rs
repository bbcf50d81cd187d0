//! Text conversion for parameter values: every value prints with its unit and parses back, with
//! or without the unit, and "Off" where a parameter has an Off position.

use std::sync::Arc;

/// A value-to-string callback.
pub type V2s = Arc<dyn Fn(f32) -> String + Send + Sync>;
/// A string-to-value callback.
pub type S2v = Arc<dyn Fn(&str) -> Option<f32> + Send + Sync>;

/// Significant-figure formatting: 3 significant digits, no exponent. The text is that of the
/// value it reads as, so printing what it parses to gives the same text again (hosts and
/// clap-validator check this): 0.0004 prints "0", not "0.000"; 99.96 prints "100", not "100.0".
pub fn sig3(v: f32) -> String {
    let once = sig3_raw(v);
    once.parse::<f32>().map_or(once, sig3_raw)
}

fn sig3_raw(v: f32) -> String {
    let a = v.abs();
    let s = if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    // "-0", "-0.000": a zero has no sign.
    if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        "0".into()
    } else {
        s
    }
}

/// Parses a number followed by an optional SI prefix (`k`, `m`, `u`/`µ`) and `unit` (any case).
/// The prefix scales relative to the parameter's own unit: with `base_prefix = "m"` (mA), "1 A"
/// is 1000.
pub fn parse_number(s: &str, units: &[&str]) -> Option<f32> {
    let mut t = s.trim().to_string();
    let lower = t.to_lowercase();
    for u in units {
        let ul = u.to_lowercase();
        if lower.ends_with(&ul) {
            t.truncate(lower.len() - ul.len());
            break;
        }
    }
    let t = t.trim();
    let (num, mult) = match t.chars().last() {
        Some('k') | Some('K') => (&t[..t.len() - 1], 1e3),
        _ => (t, 1.0),
    };
    num.trim().parse::<f32>().ok().filter(|v| v.is_finite()).map(|v| v * mult)
}

/// True if the text means "Off".
pub fn is_off(s: &str) -> bool {
    matches!(s.trim().to_lowercase().as_str(), "off" | "none" | "-" | "∞" | "inf")
}

/// Formatter for a value whose top (`off_at_or_above`) or bottom (`off_at_or_below`) end means
/// "Off"; otherwise prints `sig3(v) unit`.
pub fn v2s_with_off(unit: &'static str, off_above: Option<f32>, off_below: Option<f32>) -> V2s {
    Arc::new(move |v| {
        // Judged on the value the text reads as, so "Off" and a number never swap on a round trip.
        let shown = sig3(v);
        let r = shown.parse::<f32>().unwrap_or(v);
        if off_above.is_some_and(|o| r >= o) || off_below.is_some_and(|o| r <= o) {
            "Off".to_string()
        } else {
            format!("{shown} {unit}")
        }
    })
}

/// Parser for [`v2s_with_off`]: "Off" maps to `off_value`.
pub fn s2v_with_off(units: &'static [&'static str], off_value: Option<f32>) -> S2v {
    Arc::new(move |s| if is_off(s) { off_value } else { parse_number(s, units) })
}

/// Bias: 0 % is class B, 100 % class A.
pub fn v2s_bias() -> V2s {
    Arc::new(|v| {
        // Rounded first, so the text parses back to a value that prints the same.
        let v = v.round();
        if v <= 0.0 {
            "class B".into()
        } else if v >= 100.0 {
            "class A".into()
        } else {
            format!("class AB {v:.0} %")
        }
    })
}

/// Parser for [`v2s_bias`]: "A", "B", "class AB 30 %", "30".
pub fn s2v_bias() -> S2v {
    Arc::new(|s| {
        let l = s.trim().to_lowercase();
        let l = l.trim_start_matches("class").trim();
        match l {
            "a" => Some(100.0),
            "b" => Some(0.0),
            _ => parse_number(l.trim_start_matches("ab").trim(), &["%"]),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        assert_eq!(parse_number("1.2 kΩ", &["Ω", "ohm"]), Some(1200.0));
        assert_eq!(parse_number("75ohm", &["Ω", "ohm"]), Some(75.0));
        assert_eq!(parse_number(" -3 dB", &["dB"]), Some(-3.0));
        assert!(parse_number("abc", &["dB"]).is_none());
        let f = v2s_with_off("µF", Some(10_000.0), None);
        assert_eq!(f(220.0), "220 µF");
        assert_eq!(f(10_000.0), "Off");
        let p = s2v_with_off(&["µF", "uF"], Some(10_000.0));
        assert_eq!(p("off"), Some(10_000.0));
        assert_eq!(p("47uF"), Some(47.0));
        assert_eq!(s2v_bias()("class AB 30 %"), Some(30.0));
        assert_eq!(s2v_bias()("A"), Some(100.0));
        assert_eq!(v2s_bias()(0.0), "class B");
    }
}
