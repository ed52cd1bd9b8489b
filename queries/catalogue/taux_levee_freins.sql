-- id: taux_levee_freins
-- titre: Freins levés en 180 jours
-- sorte: taux
-- definition: Part des freins identifiés dans le mois M (une personne, un type de frein) levés dans les 180 jours suivants (frein_leve du même type).
-- numerateur: freins identifiés dans le mois M levés au plus 180 jours après leur identification
-- denominateur: freins identifiés dans le mois M
-- fenetre: 180 jours
-- fenetre_jours: 180
-- maturite: le mois M est publié quand son dernier jour plus 180 jours est au plus tard la date d'extraction du territoire
-- direction: hausse
-- unite: taux
-- ventilations: type_frein
-- ventilation type_frein: partition ; mobilite, logement, sante, famille, numerique, financier, administratif, langue
WITH identifies AS (
    SELECT f.territoire, f.personne, f.type_frein, f.date,
           CAST(date_trunc('month', f.date) AS DATE) AS mois,
           max(CASE WHEN l.date IS NOT NULL THEN 1 ELSE 0 END) AS leve
    FROM evenements f
    JOIN bornes b ON b.territoire = f.territoire
    LEFT JOIN evenements l
           ON l.territoire = f.territoire AND l.personne = f.personne
          AND l.evenement = 'frein_leve' AND l.type_frein = f.type_frein
          AND l.date >= f.date AND l.date <= CAST(f.date + INTERVAL '180 days' AS DATE)
    WHERE f.evenement = 'frein_identifie'
      AND CAST(date_trunc('month', f.date) + INTERVAL '1 month' - INTERVAL '1 day' + INTERVAL '180 days' AS DATE) <= b.date_extraction
    GROUP BY f.territoire, f.personne, f.type_frein, f.date
),
-- People are counted by grouping twice rather than with count(DISTINCT) (see
-- taux_absenteisme.sql): one row per person, month and type of frein and one per person and
-- month, in one grouping (`grouping(type_frein) = 1` for the latter), then per month and type:
-- the breakdown and the total read the identified freins once (issue 16).
par_personne AS (
    SELECT territoire, mois, type_frein, personne, grouping(type_frein) AS total,
           sum(leve) AS leves, count(*) AS n
    FROM identifies
    GROUP BY GROUPING SETS ((territoire, mois, personne), (territoire, mois, type_frein, personne))
)
SELECT territoire, mois,
       CASE WHEN total = 1 THEN '' ELSE 'type_frein' END AS ventilation,
       CASE WHEN total = 1 THEN '' ELSE type_frein END AS modalite,
       sum(leves) AS numerateur, sum(n) AS denominateur, count(personne) AS personnes
FROM par_personne
GROUP BY territoire, mois, total, type_frein
