-- id: sorties_emploi
-- titre: Sorties vers l'emploi
-- sorte: taux
-- definition: Personnes sorties vers l'emploi (sortie emploi_durable ou emploi_transition) dans le mois M, rapportées aux personnes soumises aux droits et devoirs au début du mois (fin du mois précédent) ; emploi durable et emploi de transition séparément. Une personne sortie deux fois vers l'emploi dans le mois compte une fois, au titre de la sortie la plus durable : les deux types s'additionnent au total.
-- lecture: deux sorties vers l'emploi dans le mois comptent une fois, au titre de la plus durable.
-- numerateur: personnes avec une sortie vers l'emploi dans le mois M (par modalité : de ce type)
-- denominateur: personnes en droits et devoirs à la fin du mois M-1
-- fenetre: aucune
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- lien: denominateur = beneficiaires_dd.numerateur ; mois -1
-- direction: hausse
-- unite: taux
-- ventilations: type_sortie
-- ventilation type_sortie: numerateurs ; emploi_durable, emploi_transition
WITH debut AS (
    SELECT territoire, CAST(mois + INTERVAL '1 month' AS DATE) AS mois, n
    FROM dd_stock
),
-- One job exit per person and month: a person who left twice for work in the same month counts
-- once, under the more durable exit ('emploi_durable' sorts before 'emploi_transition'), so the
-- types add up to the total.
sorties AS (
    SELECT s.territoire, s.personne, min(s.type_sortie) AS type_sortie, s.mois
    FROM (
        SELECT territoire, personne, type_sortie, CAST(date_trunc('month', date) AS DATE) AS mois
        FROM evenements
        WHERE evenement = 'sortie' AND type_sortie IN ('emploi_durable', 'emploi_transition')
    ) s
    JOIN bornes b ON b.territoire = s.territoire
    WHERE s.mois < b.mois_limite
    GROUP BY s.territoire, s.personne, s.mois
),
-- The exits per month and per month and type in one grouping (each person has one row per month,
-- so a count of rows counts people): the exits are computed once, where DataFusion computes a
-- CTE again at every reference (issue 16).
comptes AS (
    SELECT territoire, mois, type_sortie, grouping(type_sortie) AS total, count(*) AS n
    FROM sorties
    GROUP BY GROUPING SETS ((territoire, mois), (territoire, mois, type_sortie))
)
-- Every month has its total (0 without exit); each type with an exit has its row.
SELECT d.territoire, d.mois,
       CASE WHEN x.total = 0 THEN 'type_sortie' ELSE '' END AS ventilation,
       CASE WHEN x.total = 0 THEN x.type_sortie ELSE '' END AS modalite,
       coalesce(x.n, 0) AS numerateur, d.n AS denominateur,
       CASE WHEN x.total = 0 THEN x.n ELSE d.n END AS personnes
FROM debut d
JOIN bornes b ON b.territoire = d.territoire
LEFT JOIN comptes x ON x.territoire = d.territoire AND x.mois = d.mois
WHERE d.mois < b.mois_limite
