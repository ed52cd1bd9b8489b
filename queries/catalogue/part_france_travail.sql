-- id: part_france_travail
-- titre: Part des orientations vers France Travail
-- sorte: taux
-- definition: Parmi les personnes soumises aux droits et devoirs et orientées à la fin du mois M, part de celles dont l'orientation en vigueur (la dernière orientation ou réorientation) désigne France Travail ; et répartition des orientations en vigueur entre pro, socio_pro et social.
-- lecture: une seule orientation est en vigueur par personne : deux décisions le même jour sont départagées par l'ordre (orientation puis réorientation, organisme, catégorie), la dernière l'emporte.
-- numerateur: personnes dont l'orientation en vigueur à la fin du mois M désigne France Travail (ou, par modalité, est de cette catégorie)
-- denominateur: personnes en droits et devoirs orientées à la fin du mois M
-- fenetre: aucune
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- lien: denominateur = taux_orientation_stock.numerateur
-- direction: neutre
-- unite: taux
-- ventilations: orientation
-- ventilation orientation: denominateur ; pro, socio_pro, social

-- Stocks as intervals (issue 16): a running sum over months of +1 at the start and -1 at the
-- end of each interval in droits et devoirs under an orientation in force, per body (France
-- Travail or not) and category.
WITH mouvements AS (
    SELECT territoire, ft, orientation, mois, sum(n) AS n
    FROM (
        SELECT o.territoire, CASE WHEN o.organisme = 'france_travail' THEN 1 ELSE 0 END AS ft,
               coalesce(o.orientation, 'non_renseignee') AS orientation,
               CASE WHEN s.n = 1 THEN o.entree ELSE o.sortie END AS mois, s.n
        FROM orientations_dd o
        CROSS JOIN (VALUES (1), (-1)) AS s(n)
    )
    GROUP BY territoire, ft, orientation, mois
),
cles AS (
    SELECT DISTINCT territoire, ft, orientation FROM mouvements
),
stock AS (
    SELECT g.territoire, g.mois, c.ft, c.orientation,
           sum(coalesce(m.n, 0)) OVER (PARTITION BY g.territoire, c.ft, c.orientation ORDER BY g.mois) AS n
    FROM grille g
    JOIN cles c ON c.territoire = g.territoire
    LEFT JOIN mouvements m
           ON m.territoire = g.territoire AND m.ft = c.ft
          AND m.orientation = c.orientation AND m.mois = g.mois
),
-- The month's total and each category in one grouping, the total's count beside each row by a
-- window over that small result: the stock is read once (DataFusion computes a CTE again at
-- every reference; issue 16).
comptes AS (
    SELECT territoire, mois, orientation, grouping(orientation) AS total,
           sum(CASE WHEN ft = 1 THEN n ELSE 0 END) AS ft, sum(n) AS n
    FROM stock
    GROUP BY GROUPING SETS ((territoire, mois), (territoire, mois, orientation))
),
avec_total AS (
    SELECT territoire, mois, orientation, total, ft, n,
           max(CASE WHEN total = 1 THEN n END) OVER (PARTITION BY territoire, mois) AS n_total
    FROM comptes
)
SELECT territoire, mois,
       CASE WHEN total = 1 THEN '' ELSE 'orientation' END AS ventilation,
       CASE WHEN total = 1 THEN '' ELSE orientation END AS modalite,
       CASE WHEN total = 1 THEN ft ELSE n END AS numerateur,
       n_total AS denominateur,
       n AS personnes
FROM avec_total
WHERE n_total > 0 AND n > 0
