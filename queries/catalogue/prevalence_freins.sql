-- id: prevalence_freins
-- titre: Prévalence des freins périphériques
-- sorte: taux
-- definition: Parmi les personnes diagnostiquées au plus tard à la fin du mois M, part de celles chez qui un frein a été identifié au plus tard ce jour-là ; par type de frein et par intensité.
-- lecture: un frein identifié avant le diagnostic compte à partir du mois du diagnostic ; une personne peut relever de plusieurs types et intensités.
-- numerateur: personnes diagnostiquées avec un frein identifié (de ce type, ou de cette intensité) au plus tard à la fin du mois M
-- denominateur: personnes diagnostiquées au plus tard à la fin du mois M
-- fenetre: aucune (cumul)
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- direction: neutre
-- unite: taux
-- ventilations: type_frein, intensite
-- ventilation type_frein: chevauchement ; mobilite, logement, sante, famille, numerique, financier, administratif, langue
-- ventilation intensite: chevauchement ; faible, moyen, fort
-- Stocks as intervals (issue 16): a diagnosed person counts from the month of their first
-- diagnostic, and in a numerator from the later of that month and the month of their first frein
-- (of the type, of the intensity); nobody leaves these cumulative stocks, so each is a running sum
-- over the territory's months of +1 at each arrival, never one row per person and month.
-- The cells are every frein value met in the territory's events (a value nobody diagnosed has
-- only zeros, which are not written), and the total and the breakdowns come out of one join:
-- DataFusion computes a CTE again at every reference (issue 16); the diagnosed people are the
-- view `premiers_diagnostics`, computed once.
WITH mois_diagnostic AS (
    SELECT territoire, unnest(range(min(mois), max(mois_limite), INTERVAL '1 month')) AS mois
    FROM premiers_diagnostics
    GROUP BY territoire
),
freins AS (
    SELECT territoire, personne, ventilation, modalite,
           CAST(date_trunc('month', min(date)) AS DATE) AS premier_mois
    FROM (
        SELECT f.territoire, f.personne, f.date, v.ventilation,
               CASE v.ventilation WHEN 'type_frein' THEN f.type_frein WHEN 'intensite' THEN f.intensite ELSE '' END AS modalite
        FROM evenements f
        CROSS JOIN (VALUES (''), ('type_frein'), ('intensite')) AS v(ventilation)
        WHERE f.evenement = 'frein_identifie'
    )
    GROUP BY territoire, personne, ventilation, modalite
),
arrivees AS (
    SELECT territoire, ventilation, modalite, mois, count(*) AS n
    FROM (
        SELECT d.territoire, f.ventilation, f.modalite,
               greatest(d.mois, f.premier_mois) AS mois, d.mois_limite
        FROM premiers_diagnostics d
        JOIN freins f ON f.territoire = d.territoire AND f.personne = d.personne
    )
    WHERE mois < mois_limite
    GROUP BY territoire, ventilation, modalite, mois
),
cases AS (
    SELECT DISTINCT f.territoire, v.ventilation,
           CASE v.ventilation WHEN 'type_frein' THEN f.type_frein WHEN 'intensite' THEN f.intensite ELSE '' END AS modalite
    FROM evenements f
    CROSS JOIN (VALUES (''), ('type_frein'), ('intensite')) AS v(ventilation)
    WHERE f.evenement = 'frein_identifie'
),
denominateurs AS (
    SELECT m.territoire, m.mois,
           sum(coalesce(a.n, 0)) OVER (PARTITION BY m.territoire ORDER BY m.mois) AS n
    FROM mois_diagnostic m
    LEFT JOIN (SELECT territoire, mois, count(*) AS n FROM premiers_diagnostics GROUP BY territoire, mois) a
      ON a.territoire = m.territoire AND a.mois = m.mois
),
numerateurs AS (
    SELECT c.territoire, m.mois, c.ventilation, c.modalite,
           sum(coalesce(a.n, 0)) OVER (PARTITION BY c.territoire, c.ventilation, c.modalite ORDER BY m.mois) AS n
    FROM cases c
    JOIN mois_diagnostic m ON m.territoire = c.territoire
    LEFT JOIN arrivees a
      ON a.territoire = c.territoire AND a.ventilation = c.ventilation
     AND (a.modalite IS NOT DISTINCT FROM c.modalite) AND a.mois = m.mois
)
SELECT d.territoire, d.mois,
       coalesce(n.ventilation, '') AS ventilation,
       CASE WHEN n.ventilation IS NULL THEN '' ELSE n.modalite END AS modalite,
       coalesce(n.n, 0) AS numerateur, d.n AS denominateur,
       CASE WHEN coalesce(n.ventilation, '') = '' THEN d.n ELSE n.n END AS personnes
FROM denominateurs d
LEFT JOIN numerateurs n ON n.territoire = d.territoire AND n.mois = d.mois
WHERE d.n > 0 AND (coalesce(n.ventilation, '') = '' OR n.n > 0)
