//! French labels of the codes that pages show: breakdown columns and their modalities, in
//! their natural order (issue 15: no raw code such as `socio_pro` or `12_mois_plus` on a page,
//! and « faible, moyen, fort » rather than alphabetical order).

use crate::vocabulary;

/// (code, French label) of each breakdown column.
const COLONNES: &[(&str, &str)] = &[
    ("type_frein", "type de frein"),
    ("intensite", "intensité du frein"),
    ("type_rdv", "type de rendez-vous"),
    ("anciennete", "ancienneté dans les droits et devoirs"),
    ("type_contrat", "type de contrat"),
    ("orientation", "orientation"),
    ("type_sortie", "type de sortie"),
    ("organisme", "organisme"),
    ("sexe", "sexe"),
    ("niveau_formation", "niveau de formation"),
    ("situation_familiale", "situation familiale"),
];

/// (code, French label) of every modality, any column.
const MODALITES: &[(&str, &str)] = &[
    // Obstacles.
    ("mobilite", "mobilité"),
    ("logement", "logement"),
    ("sante", "santé"),
    ("famille", "famille"),
    ("numerique", "numérique"),
    ("financier", "financier"),
    ("administratif", "administratif"),
    ("langue", "langue"),
    ("faible", "faible"),
    ("moyen", "moyen"),
    ("fort", "fort"),
    // Seniority.
    ("moins_6_mois", "moins de 6 mois"),
    ("6_12_mois", "de 6 à 12 mois"),
    ("12_mois_plus", "12 mois ou plus"),
    // Orientations and bodies.
    ("pro", "professionnelle"),
    ("socio_pro", "socio-professionnelle"),
    ("social", "sociale"),
    ("france_travail", "France Travail"),
    ("conseil_departemental", "conseil départemental"),
    ("ccas_cias", "CCAS / CIAS"),
    ("mission_locale", "mission locale"),
    ("cap_emploi", "Cap emploi"),
    ("plie", "PLIE"),
    ("siae", "SIAE"),
    ("delegataire", "délégataire"),
    // Appointments.
    ("orientation", "orientation"),
    ("accompagnement", "accompagnement"),
    ("diagnostic", "diagnostic"),
    // Contracts.
    ("cer", "contrat d'engagement réciproque (CER)"),
    ("ppae", "projet personnalisé d'accès à l'emploi (PPAE)"),
    ("contrat_engagement", "contrat d'engagement"),
    ("cej", "contrat d'engagement jeune (CEJ)"),
    ("pacea", "PACEA"),
    // Exits.
    ("emploi_durable", "emploi durable"),
    ("emploi_transition", "emploi de transition"),
    ("formation_qualifiante", "formation qualifiante"),
    ("creation_entreprise", "création d'entreprise"),
    ("fin_droit", "fin de droit"),
    ("demenagement", "déménagement"),
    // Others.
    ("F", "femmes"),
    ("M", "hommes"),
    ("X", "non précisé"),
    ("infra_cap", "infra CAP"),
    ("cap_bep", "CAP, BEP"),
    ("bac", "baccalauréat"),
    ("bac_plus", "supérieur au baccalauréat"),
    ("seul", "seul"),
    ("seul_enfants", "seul avec enfants"),
    ("couple", "en couple"),
    ("couple_enfants", "en couple avec enfants"),
    ("autre", "autre"),
];

/// The French label of a breakdown column (the code itself if unknown).
pub fn colonne(code: &str) -> &str {
    COLONNES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, l)| l)
}

/// The French label of a modality (the code itself if unknown).
pub fn modalite(code: &str) -> &str {
    MODALITES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, l)| l)
}

/// The natural order of a column's modalities (the vocabulary's order; seniority from the
/// shortest); an unknown modality comes last.
pub fn rang(colonne: &str, code: &str) -> usize {
    let order: &[&str] = match colonne {
        "type_frein" => vocabulary::TYPES_FREIN,
        "intensite" => vocabulary::INTENSITES,
        "type_rdv" => vocabulary::TYPES_RDV,
        "type_contrat" => vocabulary::TYPES_CONTRAT,
        "orientation" => vocabulary::ORIENTATIONS,
        "type_sortie" => vocabulary::TYPES_SORTIE,
        "organisme" => vocabulary::ORGANISMES,
        "sexe" => vocabulary::SEXES,
        "niveau_formation" => vocabulary::NIVEAUX_FORMATION,
        "situation_familiale" => vocabulary::SITUATIONS_FAMILIALES,
        "anciennete" => &["moins_6_mois", "6_12_mois", "12_mois_plus"],
        _ => &[],
    };
    order.iter().position(|c| *c == code).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_15_every_modality_of_the_vocabulary_has_a_french_label() {
        for list in [
            vocabulary::TYPES_FREIN,
            vocabulary::INTENSITES,
            vocabulary::TYPES_RDV,
            vocabulary::TYPES_CONTRAT,
            vocabulary::ORIENTATIONS,
            vocabulary::TYPES_SORTIE,
            vocabulary::ORGANISMES,
        ] {
            for code in list {
                assert!(
                    MODALITES.iter().any(|(c, _)| c == code),
                    "{code} sans libellé"
                );
            }
        }
        assert_eq!(modalite("12_mois_plus"), "12 mois ou plus");
        assert_eq!(colonne("type_frein"), "type de frein");
    }

    #[test]
    fn issue_15_modalities_come_in_their_natural_order() {
        let mut v = vec!["fort", "faible", "moyen"];
        v.sort_by_key(|m| rang("intensite", m));
        assert_eq!(v, ["faible", "moyen", "fort"]);
        let mut v = vec!["12_mois_plus", "moins_6_mois", "6_12_mois"];
        v.sort_by_key(|m| rang("anciennete", m));
        assert_eq!(v, ["moins_6_mois", "6_12_mois", "12_mois_plus"]);
    }
}
