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
WITH diagnostiques AS (
    SELECT g.territoire, g.personne,
           unnest(range(CAST(date_trunc('month', min(g.date)) AS DATE), max(b.mois_limite), INTERVAL '1 month')) AS mois
    FROM evenements g
    JOIN bornes b ON b.territoire = g.territoire
    WHERE g.evenement = 'diagnostic'
    GROUP BY g.territoire, g.personne
),
freins AS (
    SELECT f.territoire, f.personne, v.ventilation,
           CASE v.ventilation WHEN 'type_frein' THEN f.type_frein WHEN 'intensite' THEN f.intensite ELSE '' END AS modalite,
           CAST(date_trunc('month', min(f.date)) AS DATE) AS premier_mois
    FROM evenements f
    CROSS JOIN (VALUES (''), ('type_frein'), ('intensite')) AS v(ventilation)
    WHERE f.evenement = 'frein_identifie'
    GROUP BY f.territoire, f.personne, v.ventilation,
             CASE v.ventilation WHEN 'type_frein' THEN f.type_frein WHEN 'intensite' THEN f.intensite ELSE '' END
),
totaux AS (
    SELECT territoire, mois, count(*) AS n FROM diagnostiques GROUP BY territoire, mois
)
SELECT t.territoire, t.mois, '' AS ventilation, '' AS modalite,
       coalesce(sum(CASE WHEN f.premier_mois <= d.mois THEN 1 ELSE 0 END), 0) AS numerateur,
       max(t.n) AS denominateur,
       max(t.n) AS personnes
FROM totaux t
JOIN diagnostiques d ON d.territoire = t.territoire AND d.mois = t.mois
LEFT JOIN freins f ON f.territoire = d.territoire AND f.personne = d.personne AND f.ventilation = ''
GROUP BY t.territoire, t.mois
UNION ALL
SELECT d.territoire, d.mois, f.ventilation, f.modalite,
       count(*) AS numerateur, max(t.n) AS denominateur, count(*) AS personnes
FROM diagnostiques d
JOIN freins f ON f.territoire = d.territoire AND f.personne = d.personne AND f.ventilation <> '' AND f.premier_mois <= d.mois
JOIN totaux t ON t.territoire = d.territoire AND t.mois = d.mois
GROUP BY d.territoire, d.mois, f.ventilation, f.modalite
