//! Model names as tokens: interned strings, model-number families, and their Jaccard
//! similarity (what finds a product's siblings).

use std::collections::HashMap;

/// Interned strings: 0 means "unknown" and matches nothing.
#[derive(Debug, Clone, Default)]
pub(super) struct Interner(HashMap<String, u32>);

impl Interner {
    pub(super) fn intern(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s else { return 0 };
        let next = self.0.len() as u32 + 1;
        *self.0.entry(s.to_lowercase()).or_insert(next)
    }

    /// Look up without adding: an unseen value gets an id no row has.
    pub(super) fn find(&self, s: Option<&str>) -> u32 {
        s.and_then(|s| self.0.get(&s.to_lowercase()).copied())
            .unwrap_or(u32::MAX)
    }
}

/// Name tokens: lowercase words and numbers without the brand, and for model numbers their
/// core and family prefixes ("t470s" also gives "t470", "t47*" and "t4**"), so "ThinkPad T470s"
/// meets "ThinkPad T470" and "Latitude 5430" meets "Latitude 5420" more than "Latitude 7420".
/// Quantities ("256gb", "2.7ghz", "13in") are words, not model numbers.
pub(super) fn name_tokens(brand: Option<&str>, name: &str) -> Vec<String> {
    const UNITS: [&str; 9] = ["gb", "tb", "ghz", "mhz", "mm", "cm", "in", "inch", "hz"];
    let brand = brand.unwrap_or("").to_lowercase();
    let mut out = Vec::new();
    for word in name
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && *w != brand)
    {
        let chars: Vec<char> = word.chars().collect();
        let last_digit = chars.iter().rposition(char::is_ascii_digit);
        let suffix: String = chars[last_digit.map_or(0, |d| d + 1)..].iter().collect();
        if let Some(d) = last_digit.filter(|_| !UNITS.contains(&suffix.as_str())) {
            let core = &chars[..=d];
            if core.len() < chars.len() {
                out.push(core.iter().collect());
            }
            let digits = core.iter().rev().take_while(|c| c.is_ascii_digit()).count();
            if core.len() >= 3 {
                for drop in 1..=digits.min(2) {
                    let prefix: String = core[..core.len() - drop].iter().collect();
                    out.push(format!("{prefix}{}", "*".repeat(drop)));
                }
            }
        }
        out.push(word.to_string());
    }
    out
}

/// |a ∩ b| ÷ |a ∪ b| of two sorted token lists (unknown tokens, `u32::MAX`, never match).
pub(super) fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += usize::from(a[i] != u32::MAX);
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_tokens_carry_model_families() {
        let t = name_tokens(Some("Dell"), "Dell Latitude 5430");
        assert_eq!(t, ["latitude", "543*", "54**", "5430"]);
        let t = name_tokens(Some("Lenovo"), "ThinkPad T470s 256GB");
        assert_eq!(t, ["thinkpad", "t470", "t47*", "t4**", "t470s", "256gb"]);
        assert!(jaccard(&[1, 2, 3], &[2, 3, 4]) == 0.5);
        // Unknown tokens never match but widen the union.
        assert!((jaccard(&[1, u32::MAX], &[1, u32::MAX]) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn hostile_names_give_bounded_tokens() {
        let long_digits = "9".repeat(200);
        let names = [
            long_digits.as_str(),
            "１２３ ٣٤٥ ⅷ ǅ1 e\u{301}9 \u{0} 7gb7 a1b2c3d4 0 00 000",
            "",
            "-/-/-",
            "Ünïcödé-4711 İ̇99x",
        ];
        for name in names {
            let words = name
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty());
            let t = name_tokens(Some("Acme"), name);
            // A word gives itself, its core and at most two family prefixes.
            assert!(t.len() <= 4 * words.count(), "{name:?}: {t:?}");
        }
        assert_eq!(
            name_tokens(None, &long_digits)[..2],
            [
                format!("{}*", &long_digits[..199]),
                format!("{}**", &long_digits[..198])
            ]
        );
    }
}
