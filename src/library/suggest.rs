//! "Did you mean …?" for unknown load and stage names.

/// The id of the library load or stage whose id or name is nearest to `key` (case-insensitive
/// Levenshtein distance), if it is near enough to be a plausible typo: at most a third of the
/// longer string's length, or `key` is a substring of the id/name.
pub fn suggest(key: &str) -> Option<String> {
    let cands = super::loads()
        .iter()
        .map(|l| (l.id.as_str(), l.name.as_str()))
        .chain(super::stages().iter().map(|s| (s.id.as_str(), s.name.as_str())));
    suggest_among(key, cands)
}

/// [`suggest`] over any `(id, name)` pairs; returns the id.
pub fn suggest_among<'a>(key: &str, cands: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<String> {
    let k = key.trim().to_lowercase();
    if k.is_empty() {
        return None;
    }
    let mut best: Option<(usize, &str)> = None;
    for (id, name) in cands {
        for text in [id, name] {
            let t = text.to_lowercase();
            let d = if t.contains(&k) { 0 } else { levenshtein(&k, &t) };
            let limit = k.chars().count().max(t.chars().count()) / 3;
            if d <= limit.max(1) && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, id));
            }
        }
    }
    best.map(|(_, id)| id.to_string())
}

/// Edit distance (insertions, deletions, substitutions) between two strings, by characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + usize::from(ca != *cb));
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_preset() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(suggest("laptop-jak").as_deref(), Some("laptop-jack"));
        assert_eq!(suggest("closed-dynamic-23").as_deref(), Some("closed-dynamic-32"));
        assert_eq!(suggest("tube").as_deref(), Some("tube-otl"));
        assert_eq!(suggest("zzzzzzzzzzzzzzzzzz"), None);
    }
}
