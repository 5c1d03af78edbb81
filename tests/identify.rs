//! Identification accuracy over the whole catalogue: every product queried by name variants
//! (lower case, brand omitted, extra spec words, one typo) must come back first for at least
//! 95% of queries. `cargo test --test identify -- --nocapture` prints the figures.

use carbontrace::catalog::search::{Filter, SearchIndex};
use carbontrace::catalog::{normalise, Catalogue, Product};

const FLOOR: f64 = 0.95;

/// One deterministic typo: drop a letter from the middle of the longest alphabetic word.
fn typo(name: &str) -> Option<String> {
    let word = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 5 && w.chars().all(char::is_alphabetic))
        .max_by_key(|w| w.len())?;
    let mid = word.len() / 2;
    let broken = format!("{}{}", &word[..mid], &word[mid + 1..]);
    Some(name.replacen(word, &broken, 1))
}

fn variants(p: &Product) -> Vec<(&'static str, String)> {
    let mut v = vec![
        (
            "lower case",
            format!("{} {}", p.brand, p.name).to_lowercase(),
        ),
        ("brand omitted", p.name.clone()),
        (
            "extra spec words",
            format!("{} {} i5 16GB 512GB SSD", p.brand, p.name),
        ),
    ];
    if let Some(t) = typo(&p.name) {
        v.push(("one typo", format!("{} {t}", p.brand)));
    }
    v
}

#[test]
fn the_right_product_comes_first_for_95_percent_of_name_variants() {
    let c = Catalogue::builtin();
    let idx = SearchIndex::build(c);
    let (mut ok, mut total) = (0usize, 0usize);
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let mut misses = Vec::new();
    for p in &c.products {
        let key = normalise(&format!("{}{}", p.brand, p.name));
        for (kind, q) in variants(p) {
            let hits = idx.search(c, &q, &Filter::default(), 1);
            let hit = hits.first().is_some_and(|h| {
                normalise(&format!("{}{}", h.product.brand, h.product.name)) == key
            });
            total += 1;
            let e = by_kind.entry(kind).or_default();
            e.1 += 1;
            if hit {
                ok += 1;
                e.0 += 1;
            } else if misses.len() < 15 {
                misses.push(format!(
                    "{kind}: `{q}` → {:?}",
                    hits.first().map(|h| &h.product.id)
                ));
            }
        }
    }
    let rate = ok as f64 / total as f64;
    for (kind, (k, n)) in &by_kind {
        println!("{kind:<18} {:.1}% of {n}", *k as f64 * 100.0 / *n as f64);
    }
    println!("all                {:.1}% of {total}", rate * 100.0);
    for m in &misses {
        println!("  miss {m}");
    }
    assert!(rate >= FLOOR, "identification rate {rate:.3} below {FLOOR}");
}
