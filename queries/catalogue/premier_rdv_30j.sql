-- id: premier_rdv_30j
-- titre: Premier rendez-vous d'accompagnement honoré en 30 jours
-- sorte: taux
-- definition: Part des personnes orientées pour la première fois dans le mois M qui ont honoré un rendez-vous d'accompagnement dans les 30 jours suivant leur orientation.
-- numerateur: personnes orientées dans le mois M avec un rendez-vous d'accompagnement honoré au plus 30 jours après l'orientation
-- denominateur: personnes orientées pour la première fois dans le mois M
-- fenetre: 30 jours
-- fenetre_jours: 30
-- maturite: le mois M est publié quand son dernier jour plus 30 jours est au plus tard la date d'extraction du territoire
-- lien: denominateur = contrat_28j.denominateur
-- direction: hausse
-- unite: taux
-- ventilations: aucune
WITH cohorte AS (
    SELECT o.territoire, o.personne, o.mois,
           max(CASE WHEN r.date IS NOT NULL THEN 1 ELSE 0 END) AS reussi
    FROM orientes_du_mois o
    JOIN bornes b ON b.territoire = o.territoire
    LEFT JOIN evenements r
           ON r.territoire = o.territoire AND r.personne = o.personne
          AND r.evenement = 'rdv' AND r.type_rdv = 'accompagnement' AND r.statut_rdv = 'honore'
          AND r.date >= o.date AND r.date <= CAST(o.date + INTERVAL '30 days' AS DATE)
    WHERE CAST(o.fin_mois + INTERVAL '30 days' AS DATE) <= b.date_extraction
    GROUP BY o.territoire, o.personne, o.mois
)
SELECT territoire, mois, '' AS ventilation, '' AS modalite,
       sum(reussi) AS numerateur, count(*) AS denominateur, count(*) AS personnes
FROM cohorte
GROUP BY territoire, mois
