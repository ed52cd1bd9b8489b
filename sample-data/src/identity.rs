//! Fake direct identifiers, as real exports carry them, so that anonymisation is exercised:
//! names, birth names, addresses (some on two lines), phones, e-mails and NIRs (most with a
//! valid key). None of them is real: names are drawn from common French first and last names,
//! e-mails use the reserved `.example` domain.

use chrono::{Datelike, NaiveDate};

use crate::rng::Rng;

const PRENOMS_F: &[&str] = &[
    "Marie",
    "Nathalie",
    "Isabelle",
    "Sylvie",
    "Catherine",
    "Sandrine",
    "Céline",
    "Stéphanie",
    "Aurélie",
    "Émilie",
    "Julie",
    "Camille",
    "Léa",
    "Chloé",
    "Manon",
    "Inès",
    "Sarah",
    "Fatima",
    "Aïcha",
    "Hélène",
    "Gaëlle",
    "Zoé",
    "Noémie",
    "Mélanie",
    "Laëtitia",
    "Françoise",
    "Océane",
    "Yasmine",
    "Amandine",
    "Christèle",
];
const PRENOMS_M: &[&str] = &[
    "Jean",
    "Philippe",
    "Michel",
    "Alain",
    "Patrick",
    "Nicolas",
    "Christophe",
    "Pierre",
    "Stéphane",
    "Frédéric",
    "Sébastien",
    "Jérôme",
    "François",
    "Julien",
    "Thomas",
    "Kévin",
    "Mohamed",
    "Karim",
    "Mehdi",
    "Noël",
    "Loïc",
    "Hervé",
    "Anthony",
    "Benoît",
    "Cédric",
    "Mickaël",
    "Yannick",
    "Grégory",
    "Joël",
    "Rémi",
];
const NOMS: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefebvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "N'Diaye",
    "Benali",
    "Traoré",
    "Nguyen",
    "Le Gall",
    "Kerbrat",
    "Hoarau",
    "Payet",
    "Célestine",
    "Lemaître",
    "Bénard",
    "Diallo",
    "Ferreira",
    "Da Silva",
    "Boyer",
    "Œillet",
];
const VOIES: &[&str] = &[
    "rue",
    "avenue",
    "boulevard",
    "impasse",
    "allée",
    "chemin",
    "place",
    "route",
];
const NOMS_VOIES: &[&str] = &[
    "des Lilas",
    "Jean Jaurès",
    "Victor Hugo",
    "de la République",
    "du Général de Gaulle",
    "Pasteur",
    "des Écoles",
    "de l'Église",
    "du Moulin",
    "des Peupliers",
    "Gambetta",
    "Émile Zola",
    "de la Gare",
    "des Acacias",
    "Jules Ferry",
    "du Château",
    "de la Fontaine",
];
const RESIDENCES: &[&str] = &[
    "Résidence Les Tilleuls",
    "Bâtiment C, escalier 2",
    "Chez M. et Mme Roux",
    "Appartement 14",
];
const DOMAINES: &[&str] = &["courriel.example", "messagerie.example", "boite.example"];

/// The direct identifiers of one fake person.
#[derive(Debug, Clone)]
pub(crate) struct Identite {
    pub(crate) nom: String,
    pub(crate) prenom: String,
    pub(crate) nom_naissance: Option<String>,
    pub(crate) adresse: String,
    pub(crate) telephone: String,
    pub(crate) courriel: Option<String>,
    /// The NIR as written in the export (maybe spaced, maybe with a wrong key, maybe absent).
    pub(crate) nir: Option<String>,
    /// Whether `nir` is present with a valid key.
    pub(crate) nir_valide: bool,
}

fn sans_accents(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' | 'É' => Some('e'),
            'à' | 'â' => Some('a'),
            'ï' | 'î' => Some('i'),
            'ô' => Some('o'),
            'ç' => Some('c'),
            'œ' | 'Œ' => Some('o'),
            '\'' | ' ' => None,
            c => Some(c.to_ascii_lowercase()),
        })
        .collect()
}

/// The key of a NIR body (13 characters): 97 − (number mod 97), 2A/2B read as 19/18.
pub(crate) fn cle_nir(body: &str) -> u32 {
    let digits = body.replace("2A", "19").replace("2B", "18");
    let n: u64 = digits.parse().expect("digits");
    97 - (n % 97) as u32
}

/// A mobile number drawn in pairs of digits after `prefix`: « 06 12 34 56 78 » after « 0 »,
/// « +33 6 12 34 56 78 » after « +33 ».
fn mobile(r: &mut Rng, prefix: &str) -> String {
    format!(
        "{prefix}{} {:02} {:02} {:02} {:02}",
        r.range(6, 7),
        r.range(0, 99),
        r.range(0, 99),
        r.range(0, 99),
        r.range(0, 99)
    )
}

/// Draws a person's identifiers. `departement` is the département of residence.
pub(crate) fn tirer(
    r: &mut Rng,
    sexe: &str,
    naissance: NaiveDate,
    departement: &str,
    multiligne: bool,
) -> Identite {
    let femme = match sexe {
        "F" => true,
        "M" => false,
        _ => r.chance(0.5),
    };
    let prenom = r
        .choose(if femme { PRENOMS_F } else { PRENOMS_M })
        .to_string();
    let nom = r.choose(NOMS).to_string();
    let nom_naissance = (femme && r.chance(0.3)).then(|| r.choose(NOMS).to_string());
    let rue = format!(
        "{} {} {}",
        r.range(1, 180),
        r.choose(VOIES),
        r.choose(NOMS_VOIES)
    );
    let postal = if departement.len() == 3 {
        format!("{departement}{:02}", r.range(0, 50))
    } else {
        format!(
            "{}{:03}",
            departement.replace(['A', 'B'], "0"),
            r.range(0, 99) * 10
        )
    };
    // Drawn whether used or not, so that a clean twin draws the same numbers.
    let residence = r.choose(RESIDENCES);
    let adresse = if multiligne {
        format!("{residence}\n{rue}\n{postal}")
    } else {
        format!("{rue}, {postal}")
    };
    let telephone = match r.range(0, 2) {
        0 => mobile(r, "0"),
        1 => mobile(r, "+33 "),
        _ => format!("0{}{:08}", r.range(1, 7), r.range(0, 99_999_999)),
    };
    let courriel = r.chance(0.8).then(|| {
        format!(
            "{}.{}{}@{}",
            sans_accents(&prenom),
            sans_accents(&nom),
            r.range(1, 99),
            r.choose(DOMAINES)
        )
    });

    // NIR: sex, year, month, département and commune of birth, order, key.
    let sexe_nir = if femme { 2 } else { 1 };
    let dep_naissance = if r.chance(0.75) {
        departement.to_string()
    } else {
        r.choose(&["75", "13", "69", "59", "2A", "971", "99"])
            .to_string()
    };
    let (dep2, commune3) = if dep_naissance.len() == 3 {
        (
            dep_naissance[..2].to_string(),
            format!("{}{:02}", &dep_naissance[2..], r.range(1, 34)),
        )
    } else {
        (dep_naissance, format!("{:03}", r.range(1, 400)))
    };
    let body = format!(
        "{sexe_nir}{:02}{:02}{dep2}{commune3}{:03}",
        naissance.year() % 100,
        naissance.month(),
        r.range(1, 999)
    );
    let cle = cle_nir(&body);
    let (nir, nir_valide) = match r.f64() {
        x if x < 0.83 => (Some(format!("{body}{cle:02}")), true),
        x if x < 0.88 => (Some(format!("{body}{:02}", (cle % 97) + 1)), false),
        _ => (None, false),
    };
    let nir = nir.map(|n| {
        if r.chance(0.4) {
            format!(
                "{} {} {} {} {} {} {}",
                &n[0..1],
                &n[1..3],
                &n[3..5],
                &n[5..7],
                &n[7..10],
                &n[10..13],
                &n[13..15]
            )
        } else {
            n
        }
    });
    Identite {
        nom,
        prenom,
        nom_naissance,
        adresse,
        telephone,
        courriel,
        nir,
        nir_valide,
    }
}
