-- id: beneficiaires_dd
-- titre: Personnes soumises aux droits et devoirs
-- sorte: volume
-- definition: Personnes soumises aux droits et devoirs à la fin du mois M : entrées en droits et devoirs (entree_droits_devoirs) depuis leur dernier droit ouvert, sans clôture du droit (droit_clos) à cette date.
-- lecture: un droit clos le jour même de l'entrée en droits et devoirs ne compte dans aucun mois.
-- numerateur: personnes soumises aux droits et devoirs au dernier jour du mois M
-- denominateur: aucun (volume)
-- fenetre: aucune
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- direction: neutre
-- unite: personnes
-- ventilations: aucune
SELECT territoire,
       mois,
       '' AS ventilation,
       '' AS modalite,
       n AS numerateur,
       n AS denominateur,
       n AS personnes
FROM dd_stock
