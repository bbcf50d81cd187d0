//! A compact, readable text form for load networks, used by the data files:
//!
//! ```text
//! S(R 30, L 20u, P(L 50u, R 20), P(R 30, L 35.4m, C 88u))
//! ```
//!
//! `S(..)` is a series group, `P(..)` a parallel group, `R`, `L`, `C` are elements with SI values in
//! ohms, henries and farads, optionally with a suffix `p n u µ m k M` (1e-12 … 1e6).

use crate::dsp::network::Network;

/// Parses the text form; the error names the character offset and what was expected.
pub fn parse(text: &str) -> Result<Network, String> {
    let mut p = Parser { s: text.as_bytes(), pos: 0, text };
    let n = p.net()?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(p.err("end of network"));
    }
    n.validate().map_err(|e| e.0)?;
    Ok(n)
}

/// Writes the text form (inverse of [`parse`]).
pub fn format(net: &Network) -> String {
    match net {
        Network::R(v) => format!("R {}", num(*v)),
        Network::L(v) => format!("L {}", num(*v)),
        Network::C(v) => format!("C {}", num(*v)),
        Network::Series(v) => format!("S({})", v.iter().map(format).collect::<Vec<_>>().join(", ")),
        Network::Parallel(v) => format!("P({})", v.iter().map(format).collect::<Vec<_>>().join(", ")),
    }
}

fn num(v: f64) -> String {
    format!("{v:e}")
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn err(&self, expected: &str) -> String {
        let near: String = self.text[self.pos.min(self.text.len())..].chars().take(12).collect();
        format!("network text: expected {expected} at offset {} (near {near:?})", self.pos)
    }
    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }
    fn net(&mut self) -> Result<Network, String> {
        self.ws();
        let c = *self.s.get(self.pos).ok_or_else(|| self.err("an element or group"))?;
        self.pos += 1;
        match c.to_ascii_uppercase() {
            b'S' | b'P' => {
                self.ws();
                if self.s.get(self.pos) != Some(&b'(') {
                    return Err(self.err("'('"));
                }
                self.pos += 1;
                let mut kids = vec![self.net()?];
                loop {
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => {
                            self.pos += 1;
                            kids.push(self.net()?);
                        }
                        Some(b')') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(self.err("',' or ')'")),
                    }
                }
                Ok(if c.eq_ignore_ascii_case(&b'S') { Network::Series(kids) } else { Network::Parallel(kids) })
            }
            b'R' | b'L' | b'C' => {
                let v = self.value()?;
                Ok(match c.to_ascii_uppercase() {
                    b'R' => Network::R(v),
                    b'L' => Network::L(v),
                    _ => Network::C(v),
                })
            }
            _ => {
                self.pos -= 1;
                Err(self.err("R, L, C, S( or P("))
            }
        }
    }
    fn value(&mut self) -> Result<f64, String> {
        self.ws();
        let start = self.pos;
        while self.pos < self.s.len() && (self.s[self.pos].is_ascii_digit() || b".eE+-".contains(&self.s[self.pos])) {
            self.pos += 1;
        }
        let v: f64 = self.text[start..self.pos].parse().map_err(|_| {
            self.pos = start;
            self.err("a number")
        })?;
        let rest = &self.text[self.pos..];
        let (mul, len) = match rest.chars().next() {
            Some('p') => (1e-12, 1),
            Some('n') => (1e-9, 1),
            Some('u') => (1e-6, 1),
            Some('µ') => (1e-6, 'µ'.len_utf8()),
            Some('m') => (1e-3, 1),
            Some('k') => (1e3, 1),
            Some('M') => (1e6, 1),
            _ => (1.0, 0),
        };
        self.pos += len;
        Ok(v * mul)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let n = parse("S(R 30, L 20u, P(L 50µ, R 20), P(R 30, L 35.4m, C 88u))").unwrap();
        assert_eq!(parse(&format(&n)).unwrap(), n);
        assert!(parse("S(R 30, X 2)").unwrap_err().contains("offset"));
        assert!(parse("R -3").is_err());
        assert!(parse("S(R 3").is_err());
        assert!(parse("").is_err());
    }
}
