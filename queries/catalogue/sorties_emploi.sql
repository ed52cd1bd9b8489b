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
)
SELECT d.territoire, d.mois, '' AS ventilation, '' AS modalite,
       coalesce(max(x.n), 0) AS numerateur, max(d.n) AS denominateur, max(d.n) AS personnes
FROM debut d
JOIN bornes b ON b.territoire = d.territoire
LEFT JOIN (SELECT territoire, mois, count(DISTINCT personne) AS n FROM sorties GROUP BY territoire, mois) x
       ON x.territoire = d.territoire AND x.mois = d.mois
WHERE d.mois < b.mois_limite
GROUP BY d.territoire, d.mois
UNION ALL
SELECT d.territoire, d.mois, 'type_sortie' AS ventilation, x.type_sortie AS modalite,
       count(DISTINCT x.personne) AS numerateur, max(d.n) AS denominateur, count(DISTINCT x.personne) AS personnes
FROM debut d
JOIN sorties x ON x.territoire = d.territoire AND x.mois = d.mois
GROUP BY d.territoire, d.mois, x.type_sortie
