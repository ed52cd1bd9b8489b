-- id: delai_orientation
-- titre: Délai d'orientation des entrants
-- sorte: delai
-- definition: Jours entre le premier droit ouvert et la première orientation, pour les entrants du mois M qui ont été orientés : médiane (valeur principale), moyenne et quartiles.
-- lecture: seule une orientation le jour de l'entrée ou après compte (une orientation antérieure à l'entrée est ignorée) ; une réorientation n'est pas une première orientation.
-- numerateur: somme des délais des entrants orientés du mois M
-- denominateur: entrants du mois M déjà orientés
-- fenetre: aucune
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- direction: baisse
-- unite: jours
-- ventilations: aucune
SELECT e.territoire,
       e.mois,
       '' AS ventilation,
       '' AS modalite,
       e.delai AS jours,
       count(*) AS personnes
FROM entrants_orientes e
JOIN extractions x ON x.territoire = e.territoire
WHERE e.fin_mois <= x.date_extraction
  AND e.delai IS NOT NULL
GROUP BY e.territoire, e.mois, e.delai
