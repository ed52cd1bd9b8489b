-- id: entrants
-- titre: Entrants au RSA
-- sorte: volume
-- definition: Personnes dont le premier droit au RSA (droit_ouvert) a été ouvert dans le mois M.
-- lecture: une personne n'entre qu'une fois, à son premier droit ouvert ; un droit ouvert et clos le même jour compte comme une entrée.
-- numerateur: personnes dont le premier droit ouvert tombe dans le mois M
-- denominateur: aucun (volume)
-- fenetre: aucune
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- direction: neutre
-- unite: personnes
-- ventilations: aucune
SELECT e.territoire,
       e.mois,
       '' AS ventilation,
       '' AS modalite,
       count(*) AS numerateur,
       count(*) AS denominateur,
       count(*) AS personnes
FROM entrants_orientes e
JOIN extractions x ON x.territoire = e.territoire
WHERE e.fin_mois <= x.date_extraction
GROUP BY e.territoire, e.mois
