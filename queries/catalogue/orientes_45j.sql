-- id: orientes_45j
-- titre: Entrants orientés en 45 jours
-- sorte: taux
-- definition: Part des entrants du mois M orientés dans les 45 jours qui suivent leur premier droit ouvert.
-- lecture: seule une orientation le jour de l'entrée ou après compte ; une réorientation n'est pas une première orientation.
-- numerateur: entrants du mois M orientés au plus 45 jours après leur premier droit ouvert
-- denominateur: entrants du mois M
-- fenetre: 45 jours
-- fenetre_jours: 45
-- maturite: le mois M est publié quand son dernier jour plus 45 jours est au plus tard la date d'extraction du territoire
-- lien: denominateur = entrants.numerateur
-- direction: hausse
-- unite: taux
-- ventilations: aucune
SELECT e.territoire,
       e.mois,
       '' AS ventilation,
       '' AS modalite,
       sum(CASE WHEN e.delai <= 45 THEN 1 ELSE 0 END) AS numerateur,
       count(*) AS denominateur,
       count(*) AS personnes
FROM entrants_orientes e
JOIN extractions x ON x.territoire = e.territoire
WHERE e.fin_mois + INTERVAL '45 days' <= x.date_extraction
GROUP BY e.territoire, e.mois
