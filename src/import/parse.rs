//! Reading impedance text files: ZMA, REW's text export and CSV with a header.
//!
//! All three are "a table of numbers with optional comments and header": frequency in hertz,
//! |Z| in ohms, optionally phase in degrees (or real and imaginary parts, if a CSV header says
//! so). The format is detected from the comments and header; delimiters may be tabs, spaces,
//! commas or semicolons (then a decimal comma is accepted), lines may end in LF, CRLF or CR, and
//! a UTF-8 (or UTF-16) byte-order mark is skipped.

use super::error::{ErrorKind as K, ImportError};

/// The detected file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Format {
    /// Frequency, |Z|, phase columns; `*` comments (LEAP / LspCAD / DATS / VituixCAD convention).
    Zma,
    /// Room EQ Wizard "export measurement as text" (`* ... REW ...` comment header).
    Rew,
    /// Delimited table with a header line naming the columns.
    Csv,
}

/// The rows of a file, validated: frequencies strictly increasing and positive, |Z| positive.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub format: Format,
    /// Hertz.
    pub freq_hz: Vec<f64>,
    /// Ohms.
    pub mag_ohm: Vec<f64>,
    /// Degrees; `None` if the file has no phase column.
    pub phase_deg: Option<Vec<f64>>,
    /// Things the user should know (e.g. "phase clamped to ±90°").
    pub notes: Vec<String>,
}

/// How far past ±90° a measured phase may stray before the file is refused as not passive,
/// degrees (a real part of at most −3.5 % of |Z|: measurement noise on a nearly reactive point).
pub const MAX_PHASE_STRAY_DEG: f64 = 92.0;

/// How the value columns are to be read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cols {
    /// |Z| at `mag`, optional phase at `phase` (radians if `rad`).
    Polar { freq: usize, mag: usize, phase: Option<usize>, rad: bool },
    /// Real and imaginary parts.
    Rect { freq: usize, re: usize, im: usize },
}

/// Decodes bytes to text, rejecting binary data. The error names the first offending line.
pub fn decode(bytes: &[u8]) -> Result<String, ImportError> {
    if bytes.len() >= 2 && (bytes[..2] == [0xFF, 0xFE] || bytes[..2] == [0xFE, 0xFF]) {
        let le = bytes[0] == 0xFF;
        let units = bytes[2..].chunks_exact(2).map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) });
        let text: String = char::decode_utf16(units).map(|r| r.unwrap_or('\u{FFFD}')).collect();
        return check_text(text.as_bytes()).map(|_| text);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    check_text(bytes)?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Binary if there is a NUL byte or more than 2 % control characters (other than tab, CR, LF, FF).
fn check_text(bytes: &[u8]) -> Result<(), ImportError> {
    let is_ctrl = |b: u8| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)) || b == 0x7F;
    let line_of = |pos: usize| 1 + bytes[..pos].iter().filter(|&&b| b == b'\n').count();
    if let Some(p) = bytes.iter().position(|&b| b == 0) {
        return Err(ImportError::at(K::Binary, line_of(p), "binary data (a NUL byte): this is not a text impedance file"));
    }
    let n = bytes.iter().filter(|&&b| is_ctrl(b)).count();
    if n > 0 && n * 50 > bytes.len() {
        let p = bytes.iter().position(|&b| is_ctrl(b)).unwrap_or(0);
        return Err(ImportError::at(K::Binary, line_of(p), format!("binary data ({n} control characters): this is not a text impedance file")));
    }
    Ok(())
}

/// Splits text into (1-based line number, line) on LF, CRLF or lone CR.
fn lines(text: &str) -> Vec<(usize, &str)> {
    let sep = if text.contains('\n') { '\n' } else { '\r' };
    text.split(sep).enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r').trim())).collect()
}

fn is_comment(l: &str) -> bool {
    l.starts_with(['*', '#', ';', '!', '%', '\'']) || l.starts_with("//")
}

/// Splits a line into fields. `semi`: the file uses `;` as delimiter, so `,` is a decimal comma.
fn fields(l: &str, semi: bool) -> Vec<String> {
    if semi {
        return l.split(';').map(|t| t.trim().replace(',', ".")).filter(|t| !t.is_empty()).collect();
    }
    let parts: Vec<&str> = l.split(|c: char| c == ',' || c == '\t' || c.is_whitespace()).filter(|t| !t.is_empty()).collect();
    // Tab-separated with decimal commas ("20,5<TAB>31,2"): commas but no dots, and tabs present.
    if l.contains('\t') && l.contains(',') && !l.contains('.') {
        return l.split('\t').map(|t| t.trim().replace(',', ".")).filter(|t| !t.is_empty()).collect();
    }
    parts.into_iter().map(str::to_string).collect()
}

/// Splits a header line into column names, keeping "Frequency (Hz)" together.
fn header_names(l: &str) -> Vec<String> {
    let l = l.trim_start_matches(['*', '#', ';', '!', '%', '/', '\'']).trim();
    let raw: Vec<String> = if l.contains([',', ';', '\t']) {
        l.split([',', ';', '\t']).map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect()
    } else {
        let mut v: Vec<String> = Vec::new();
        for t in l.split_whitespace() {
            match v.last_mut() {
                Some(last) if t.starts_with(['(', '[']) => {
                    last.push(' ');
                    last.push_str(&t.to_lowercase());
                }
                _ => v.push(t.to_lowercase()),
            }
        }
        v
    };
    raw.into_iter().map(|t| t.trim_matches('"').to_string()).collect()
}

/// Maps header names to columns; `None` if the header does not name a frequency column.
fn map_columns(names: &[String], line: usize) -> Result<Option<Cols>, ImportError> {
    let find = |pred: &dyn Fn(&str) -> bool| names.iter().position(|n| pred(n));
    let Some(freq) = find(&|n| n.contains("freq") || n == "hz" || n == "f" || n.starts_with("f (") || n.starts_with("f[")) else {
        return Ok(None);
    };
    let phase = find(&|n| n.contains("phase") || n.contains("deg") || n.contains("angle") || n.starts_with("arg"));
    let is_mag = |n: &str| {
        !n.contains("phase") && !n.contains("freq") && (n.contains("ohm") || n.contains("imped") || n.contains("|z|") || n.contains("mag") || n == "z" || n.starts_with("z(") || n.starts_with("z (") || n.starts_with("z[") || n == "zmag" || n.contains('Ω'))
    };
    if let Some(mag) = find(&|n| is_mag(n)) {
        let rad = phase.is_some_and(|p| names[p].contains("rad"));
        return Ok(Some(Cols::Polar { freq, mag, phase, rad }));
    }
    let re = find(&|n| n == "re" || n.starts_with("real") || n.starts_with("re(") || n.starts_with("re ") || n == "r" || n.starts_with("resist"));
    let im = find(&|n| n == "im" || n.starts_with("imag") || n.starts_with("im(") || n.starts_with("im ") || n == "x" || n.starts_with("react"));
    if let (Some(re), Some(im)) = (re, im) {
        return Ok(Some(Cols::Rect { freq, re, im }));
    }
    if let Some(spl) = names.iter().find(|n| n.contains("spl") || n.contains("db")) {
        return Err(ImportError::at(K::NotImpedance, line, format!("the header names a '{spl}' column: this is a level measurement, not an impedance (export the impedance curve in ohms)")));
    }
    // Unknown value names: fall back to position (freq, |Z|, phase).
    Ok(Some(Cols::Polar { freq, mag: if freq == 0 { 1 } else { 0 }, phase: (names.len() > 2).then_some(2), rad: false }))
}

/// Parses one numeric field; the error names the line and the field.
fn number(t: &str, line: usize, what: &str) -> Result<f64, ImportError> {
    let v: f64 = t.parse().map_err(|_| {
        let shown: String = t.chars().take(24).collect();
        ImportError::at(K::NotNumeric, line, format!("{what} '{shown}' is not a number"))
    })?;
    if v.is_nan() {
        return Err(ImportError::at(K::NotFinite, line, format!("{what} is NaN")));
    }
    if v.is_infinite() {
        return Err(ImportError::at(K::NotFinite, line, format!("{what} is infinite")));
    }
    Ok(v)
}

/// Parses and validates a whole file.
pub fn parse_table(text: &str) -> Result<Table, ImportError> {
    let all = lines(text);
    let semi = all.iter().filter(|(_, l)| !l.is_empty() && !is_comment(l)).take(3).any(|(_, l)| l.contains(';'));
    let mut rew = false;
    let mut cols: Option<Cols> = None;
    let mut had_header = false;
    let mut out = Table { format: Format::Zma, freq_hz: Vec::new(), mag_ohm: Vec::new(), phase_deg: Some(Vec::new()), notes: Vec::new() };
    let mut ncols_seen: Option<usize> = None;
    let mut clamped = 0usize;
    for (ln, l) in all {
        if l.is_empty() {
            continue;
        }
        if is_comment(l) {
            let low = l.to_lowercase();
            if low.contains("rew") || low.contains("room eq wizard") {
                rew = true;
            }
            if out.freq_hz.is_empty() && (low.contains("freq") || low.contains("hz")) {
                if let Some(c) = map_columns(&header_names(l), ln)? {
                    cols = Some(c);
                }
            }
            continue;
        }
        let f = fields(l, semi);
        let numeric_start = f.first().is_some_and(|t| t.parse::<f64>().is_ok());
        if !numeric_start && out.freq_hz.is_empty() && l.chars().any(|c| c.is_alphabetic()) {
            // A header line before the data.
            had_header = true;
            if let Some(c) = map_columns(&header_names(l), ln)? {
                cols = Some(c);
            }
            continue;
        }
        let vals: Vec<f64> = f.iter().enumerate().map(|(i, t)| number(t, ln, &field_name(i))).collect::<Result<_, _>>()?;
        if vals.len() < 2 {
            return Err(ImportError::at(K::MissingColumn, ln, format!("expected frequency and impedance, found {} value(s)", vals.len())));
        }
        let c = cols.unwrap_or(Cols::Polar { freq: 0, mag: 1, phase: Some(2), rad: false });
        let get = |i: usize, what: &str| vals.get(i).copied().ok_or_else(|| ImportError::at(K::MissingColumn, ln, format!("no {what} column (column {}; this line has {})", i + 1, vals.len())));
        let (freq, mag, phase) = match c {
            Cols::Polar { freq, mag, phase, rad } => {
                let p = match phase {
                    Some(p) if p < vals.len() => Some(if rad { get(p, "phase")?.to_degrees() } else { get(p, "phase")? }),
                    _ => None,
                };
                (get(freq, "frequency")?, get(mag, "impedance")?, p)
            }
            Cols::Rect { freq, re, im } => {
                let z = num_complex::Complex64::new(get(re, "real part")?, get(im, "imaginary part")?);
                (get(freq, "frequency")?, z.norm(), Some(z.arg().to_degrees()))
            }
        };
        let nc = usize::from(phase.is_some());
        if *ncols_seen.get_or_insert(nc) != nc {
            return Err(ImportError::at(K::MissingColumn, ln, "this line has a different number of columns from the lines before it"));
        }
        if freq <= 0.0 {
            return Err(ImportError::at(K::BadFrequency, ln, format!("frequency {freq} Hz must be greater than zero")));
        }
        if let Some(&prev) = out.freq_hz.last() {
            if freq <= prev {
                return Err(ImportError::at(K::NotIncreasing, ln, format!("frequencies not increasing: {freq} Hz after {prev} Hz")));
            }
        }
        if mag <= 0.0 {
            return Err(ImportError::at(K::BadImpedance, ln, format!("impedance {mag} Ω must be greater than zero")));
        }
        out.freq_hz.push(freq);
        out.mag_ohm.push(mag);
        if let (Some(p), Some(v)) = (phase, out.phase_deg.as_mut()) {
            if p.abs() > 180.0 {
                return Err(ImportError::at(K::BadPhase, ln, format!("phase {p}° is outside ±180°")));
            }
            // A passive load's real part is never negative: |phase| ≤ 90°. A measurement may
            // stray a little past ±90° on a nearly reactive point (clamped, with a note); a larger
            // excursion means the file is not a passive impedance (wrong column, wrong sign
            // convention, an active device) and is refused rather than fitted to a curve unlike it.
            if p.abs() > MAX_PHASE_STRAY_DEG {
                return Err(ImportError::at(
                    K::NotPassive,
                    ln,
                    format!("phase {p}° at {freq} Hz means a negative resistance (real part {:.3} Ω): not a passive load's impedance, whose phase stays within ±90°", mag * p.to_radians().cos()),
                ));
            }
            if p.abs() > 90.0 {
                clamped += 1;
            }
            v.push(p.clamp(-90.0, 90.0));
        }
    }
    if ncols_seen == Some(0) {
        out.phase_deg = None;
    }
    if clamped > 0 {
        out.notes.push(format!("{clamped} phase value(s) beyond ±90° (not possible for a passive load) were clamped to ±90°"));
    }
    out.format = if rew { Format::Rew } else if had_header { Format::Csv } else { Format::Zma };
    Ok(out)
}

fn field_name(i: usize) -> String {
    match i {
        0 => "frequency".into(),
        1 => "impedance".into(),
        2 => "phase".into(),
        _ => format!("column {}", i + 1),
    }
}
