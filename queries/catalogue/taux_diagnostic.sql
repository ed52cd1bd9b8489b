-- id: taux_diagnostic
-- titre: Diagnostic socio-professionnel en 90 jours
-- sorte: taux
-- definition: Part des personnes orientées pour la première fois dans le mois M dont le diagnostic socio-professionnel est fait dans les 90 jours suivant l'orientation.
-- numerateur: personnes orientées dans le mois M avec un diagnostic au plus 90 jours après l'orientation
-- denominateur: personnes orientées pour la première fois dans le mois M
-- fenetre: 90 jours
-- fenetre_jours: 90
-- maturite: le mois M est publié quand son dernier jour plus 90 jours est au plus tard la date d'extraction du territoire
-- lien: denominateur = contrat_28j.denominateur
-- direction: hausse
-- unite: taux
-- ventilations: aucune
WITH cohorte AS (
    SELECT o.territoire, o.personne, o.mois,
           max(CASE WHEN g.date IS NOT NULL THEN 1 ELSE 0 END) AS fait
    FROM orientes_du_mois o
    JOIN bornes b ON b.territoire = o.territoire
    LEFT JOIN evenements g
           ON g.territoire = o.territoire AND g.personne = o.personne
          AND g.evenement = 'diagnostic'
          AND g.date >= o.date AND g.date <= CAST(o.date + INTERVAL '90 days' AS DATE)
    WHERE CAST(o.fin_mois + INTERVAL '90 days' AS DATE) <= b.date_extraction
    GROUP BY o.territoire, o.personne, o.mois
)
SELECT territoire, mois, '' AS ventilation, '' AS modalite,
       sum(fait) AS numerateur, count(*) AS denominateur, count(*) AS personnes
FROM cohorte
GROUP BY territoire, mois
