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

-- Stocks as intervals (issue 16): a person's coverage by contracts (the `cer` periods of
-- `periodes`, merged where they overlap) is intersected with their intervals in droits et devoirs
-- under an orientation in force outside France Travail; a running sum over months of +1 at each
-- start and -1 at each end gives both stocks.
WITH hors_ft AS (
    SELECT territoire, personne, entree, sortie
    FROM orientations_dd
    WHERE organisme IS DISTINCT FROM 'france_travail'
),
couvertures AS (
    SELECT territoire, personne, entree, sortie
    FROM periodes
    WHERE nature = 'cer'
),
couverts AS (
    SELECT h.territoire, greatest(h.entree, c.entree) AS entree, least(h.sortie, c.sortie) AS sortie
    FROM hors_ft h
    JOIN couvertures c
      ON c.territoire = h.territoire AND c.personne = h.personne
     AND c.entree < h.sortie AND h.entree < c.sortie
),
mouvements AS (
    SELECT territoire, mois, sum(CASE WHEN cer = 0 THEN n ELSE 0 END) AS n,
           sum(CASE WHEN cer = 1 THEN n ELSE 0 END) AS cer
    FROM (
        SELECT h.territoire, 0 AS cer, CASE WHEN s.n = 1 THEN h.entree ELSE h.sortie END AS mois, s.n
        FROM hors_ft h
        CROSS JOIN (VALUES (1), (-1)) AS s(n)
        UNION ALL
        SELECT c.territoire, 1 AS cer, CASE WHEN s.n = 1 THEN c.entree ELSE c.sortie END AS mois, s.n
        FROM couverts c
        CROSS JOIN (VALUES (1), (-1)) AS s(n)
    )
    GROUP BY territoire, mois
),
stock AS (
    SELECT g.territoire, g.mois,
           sum(coalesce(m.n, 0)) OVER (PARTITION BY g.territoire ORDER BY g.mois) AS n,
           sum(coalesce(m.cer, 0)) OVER (PARTITION BY g.territoire ORDER BY g.mois) AS cer
    FROM grille g
    LEFT JOIN mouvements m ON m.territoire = g.territoire AND m.mois = g.mois
)
SELECT territoire, mois, '' AS ventilation, '' AS modalite,
       cer AS numerateur, n AS denominateur, n AS personnes
FROM stock
WHERE n > 0
