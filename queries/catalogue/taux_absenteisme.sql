-- id: taux_absenteisme
-- titre: Taux d'absentéisme aux rendez-vous
-- sorte: taux
-- definition: Part des rendez-vous du mois M où la personne était absente, parmi les rendez-vous du mois honorés, manqués, excusés ou annulés.
-- numerateur: rendez-vous du mois M au statut absent
-- denominateur: rendez-vous du mois M au statut honore, absent, excuse ou annule
-- fenetre: aucune
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- direction: baisse
-- unite: taux
-- ventilations: type_rdv
-- ventilation type_rdv: partition ; orientation, accompagnement, diagnostic, autre
-- People are counted by grouping twice (one row per person, month and type, then per person and
-- month) rather than with count(DISTINCT), which DataFusion runs per group through a slow
-- generic accumulator (issue 16: 72 s of the 81 s refresh at scale 1). The figures are the same.
-- The month is computed in a projection of its own, then grouped on: grouping on the
-- expression itself made DataFusion's aggregation twice as slow (issue 16).
-- The total and the breakdown each group the rows once, from the rows: DataFusion computes a
-- CTE again at every reference, and a per-person CTE read by both was grouped twice (issue 16).
WITH rdv_mois AS (
    SELECT r.territoire, r.personne, r.type_rdv,
           CASE WHEN r.statut_rdv = 'absent' THEN 1 ELSE 0 END AS absent,
           CAST(date_trunc('month', r.date) AS DATE) AS mois
    FROM evenements r
    WHERE r.evenement = 'rdv'
      AND r.statut_rdv IN ('honore', 'absent', 'excuse', 'annule')
),
rdv AS (
    SELECT r.territoire, r.mois, r.type_rdv, r.personne, r.absent
    FROM rdv_mois r
    JOIN extractions x ON x.territoire = r.territoire
    WHERE CAST(r.mois + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) <= x.date_extraction
),
par_personne AS (
    SELECT territoire, mois, personne, sum(absent) AS absents, count(*) AS n
    FROM rdv
    GROUP BY territoire, mois, personne
),
par_type AS (
    SELECT territoire, mois, type_rdv, personne, sum(absent) AS absents, count(*) AS n
    FROM rdv
    GROUP BY territoire, mois, type_rdv, personne
)
SELECT territoire, mois, '' AS ventilation, '' AS modalite,
       sum(absents) AS numerateur, sum(n) AS denominateur, count(personne) AS personnes
FROM par_personne
GROUP BY territoire, mois
UNION ALL
SELECT territoire, mois, 'type_rdv' AS ventilation, type_rdv AS modalite,
       sum(absents) AS numerateur, sum(n) AS denominateur, count(personne) AS personnes
FROM par_type
GROUP BY territoire, mois, type_rdv
