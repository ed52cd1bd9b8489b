-- id: couverture_cer
-- titre: Couverture par un CER (puis un contrat d'engagement) des personnes orientées hors France Travail
-- sorte: taux
-- definition: Parmi les personnes soumises aux droits et devoirs à la fin du mois M dont l'orientation en vigueur ne désigne pas France Travail, part de celles qui ont signé un contrat d'engagements réciproques (CER) dans les 12 mois précédant la fin du mois. Depuis le 1er janvier 2025, la loi pour le plein emploi remplace le CER et le PPAE par le contrat d'engagement : un contrat d'engagement signé à partir de cette date compte comme son successeur (rupture de série en janvier 2025).
-- numerateur: personnes orientées hors France Travail avec un CER (ou, signé depuis le 1er janvier 2025, un contrat d'engagement) dans les 365 jours jusqu'à la fin du mois M
-- denominateur: personnes en droits et devoirs orientées hors France Travail à la fin du mois M
-- fenetre: 12 mois glissants
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- lien: denominateur = part_france_travail.denominateur - part_france_travail.numerateur
-- direction: hausse
-- unite: taux
-- ventilations: aucune
-- rupture: 2025-01 ; loi pour le plein emploi : le contrat d'engagement succède au CER
WITH hors_ft AS (
    SELECT DISTINCT territoire, personne, mois, fin_mois
    FROM orientations_en_cours
    WHERE organisme IS DISTINCT FROM 'france_travail'
),
couverts AS (
    SELECT h.territoire, h.personne, h.mois,
           max(CASE WHEN c.date IS NOT NULL THEN 1 ELSE 0 END) AS cer
    FROM hors_ft h
    LEFT JOIN evenements c
           ON c.territoire = h.territoire AND c.personne = h.personne
          AND c.evenement = 'contrat_signe'
          AND (c.type_contrat = 'cer'
               OR (c.type_contrat = 'contrat_engagement' AND c.date >= DATE '2025-01-01'))
          AND c.date <= h.fin_mois AND c.date > CAST(h.fin_mois - INTERVAL '365 days' AS DATE)
    GROUP BY h.territoire, h.personne, h.mois
)
SELECT territoire, mois, '' AS ventilation, '' AS modalite,
       sum(cer) AS numerateur, count(*) AS denominateur, count(*) AS personnes
FROM couverts
GROUP BY territoire, mois
