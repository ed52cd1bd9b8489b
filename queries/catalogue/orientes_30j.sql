-- id: orientes_30j
-- titre: Entrants orientés en 30 jours
-- sorte: taux
-- definition: Part des entrants du mois M orientés dans les 30 jours qui suivent leur premier droit ouvert.
-- lecture: seule une orientation le jour de l'entrée ou après compte ; une réorientation n'est pas une première orientation.
-- numerateur: entrants du mois M orientés au plus 30 jours après leur premier droit ouvert
-- denominateur: entrants du mois M
-- fenetre: 30 jours
-- fenetre_jours: 30
-- maturite: le mois M est publié quand son dernier jour plus 30 jours est au plus tard la date d'extraction du territoire
-- lien: denominateur = entrants.numerateur
-- direction: hausse
-- unite: taux
-- ventilations: aucune
SELECT e.territoire,
       e.mois,
       '' AS ventilation,
       '' AS modalite,
       sum(CASE WHEN e.delai <= 30 THEN 1 ELSE 0 END) AS numerateur,
       count(*) AS denominateur,
       count(*) AS personnes
FROM entrants_orientes e
JOIN extractions x ON x.territoire = e.territoire
WHERE e.fin_mois + INTERVAL '30 days' <= x.date_extraction
GROUP BY e.territoire, e.mois
