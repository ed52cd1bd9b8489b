-- id: taux_reorientation
-- titre: Réorientation dans l'année
-- sorte: taux
-- definition: Part des personnes orientées pour la première fois dans le mois M qui sont réorientées dans les 365 jours suivants.
-- lecture: seules les réorientations postérieures à la première orientation comptent.
-- numerateur: personnes orientées dans le mois M avec une réorientation au plus 365 jours après
-- denominateur: personnes orientées pour la première fois dans le mois M
-- fenetre: 365 jours
-- fenetre_jours: 365
-- maturite: le mois M est publié quand son dernier jour plus 365 jours est au plus tard la date d'extraction du territoire
-- lien: denominateur = contrat_28j.denominateur
-- direction: neutre
-- unite: taux
-- ventilations: aucune
WITH cohorte AS (
    SELECT o.territoire, o.personne, o.mois,
           max(CASE WHEN r.date IS NOT NULL THEN 1 ELSE 0 END) AS reoriente
    FROM orientes_du_mois o
    JOIN bornes b ON b.territoire = o.territoire
    LEFT JOIN evenements r
           ON r.territoire = o.territoire AND r.personne = o.personne
          AND r.evenement = 'reorientation'
          AND r.date > o.date AND r.date <= CAST(o.date + INTERVAL '365 days' AS DATE)
    WHERE CAST(o.fin_mois + INTERVAL '365 days' AS DATE) <= b.date_extraction
    GROUP BY o.territoire, o.personne, o.mois
)
SELECT territoire, mois, '' AS ventilation, '' AS modalite,
       sum(reoriente) AS numerateur, count(*) AS denominateur, count(*) AS personnes
FROM cohorte
GROUP BY territoire, mois
