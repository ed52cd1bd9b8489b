use std::collections::BTreeMap;

use serde::Deserialize;

/// One French département (INSEE's geographic code).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Department {
    /// INSEE code: `01`…`95`, `2A`, `2B`, `971`…`976`.
    pub code: String,
    /// Name, in French.
    pub nom: String,
    /// Region, in French.
    pub region: String,
    /// Legal population (sum of its communes' populations).
    pub population: u64,
    /// Approximate centroid longitude (WGS84).
    pub longitude: f64,
    /// Approximate centroid latitude (WGS84).
    pub latitude: f64,
}

impl Department {
    /// Whether the département is overseas (`97x`).
    pub fn is_overseas(&self) -> bool {
        self.code.starts_with("97")
    }
}

/// The 101 départements, by code.
#[derive(Debug, Clone)]
pub struct Departments {
    by_code: BTreeMap<String, Department>,
}

const BUILTIN: &str = include_str!("../data/departements.csv");

impl Departments {
    /// The built-in list (INSEE 2026 geographic code). It is fixed data, checked by the tests.
    pub fn builtin() -> Self {
        let mut reader = csv::Reader::from_reader(BUILTIN.as_bytes());
        let by_code = reader
            .deserialize::<Department>()
            .map(|row| {
                let d = row.expect("built-in departements.csv is valid");
                (d.code.clone(), d)
            })
            .collect();
        Self { by_code }
    }

    /// The département of that code, if any.
    pub fn get(&self, code: &str) -> Option<&Department> {
        self.by_code.get(code)
    }

    /// Whether `code` is a known département code.
    pub fn contains(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }

    /// All départements, ordered by code.
    pub fn iter(&self) -> impl Iterator<Item = &Department> {
        self.by_code.values()
    }

    /// How many départements there are (101).
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// Whether the list is empty (never, for the built-in one).
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    /// The département code of an INSEE commune code (`44109` → `44`, `2A004` → `2A`,
    /// `97105` → `971`), if that département is known.
    pub fn of_commune(&self, commune: &str) -> Option<&Department> {
        let commune = commune.trim();
        if commune.len() != 5 || !commune.is_ascii() {
            return None;
        }
        let code = if commune.starts_with("97") {
            &commune[..3]
        } else {
            &commune[..2]
        };
        self.get(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_the_101_departements() {
        let d = Departments::builtin();
        assert_eq!(d.len(), 101);
        assert!(d.contains("2A") && d.contains("2B") && d.contains("976"));
        assert!(!d.contains("20"));
        let total: u64 = d.iter().map(|d| d.population).sum();
        // France's legal population is about 68 million.
        assert!((66_000_000..70_000_000).contains(&total), "{total}");
        assert_eq!(d.iter().filter(|d| d.is_overseas()).count(), 5);
    }

    #[test]
    fn commune_codes_map_to_their_departement() {
        let d = Departments::builtin();
        assert_eq!(d.of_commune("44109").map(|d| d.code.as_str()), Some("44"));
        assert_eq!(d.of_commune("2A004").map(|d| d.code.as_str()), Some("2A"));
        assert_eq!(d.of_commune("97411").map(|d| d.code.as_str()), Some("974"));
        assert_eq!(d.of_commune("20004"), None);
        assert_eq!(d.of_commune("4410"), None);
    }
}
