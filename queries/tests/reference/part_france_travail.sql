-- id: part_france_travail
-- titre: Part des orientations vers France Travail
-- sorte: taux
-- definition: Parmi les personnes soumises aux droits et devoirs et orientées à la fin du mois M, part de celles dont l'orientation en vigueur (la dernière orientation ou réorientation) désigne France Travail ; et répartition des orientations en vigueur entre pro, socio_pro et social.
-- lecture: une seule orientation est en vigueur par personne : deux décisions le même jour sont départagées par l'ordre (orientation puis réorientation, organisme, catégorie), la dernière l'emporte.
-- numerateur: personnes dont l'orientation en vigueur à la fin du mois M désigne France Travail (ou, par modalité, est de cette catégorie)
-- denominateur: personnes en droits et devoirs orientées à la fin du mois M
-- fenetre: aucune
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- lien: denominateur = taux_orientation_stock.numerateur
-- direction: neutre
-- unite: taux
-- ventilations: orientation
-- ventilation orientation: denominateur ; pro, socio_pro, social
WITH courantes AS (
    SELECT territoire, personne, mois, organisme, orientation
    FROM orientations_en_cours
),
totaux AS (
    SELECT territoire, mois, count(*) AS n FROM courantes GROUP BY territoire, mois
)
SELECT c.territoire, c.mois, '' AS ventilation, '' AS modalite,
       sum(CASE WHEN c.organisme = 'france_travail' THEN 1 ELSE 0 END) AS numerateur,
       count(*) AS denominateur,
       count(*) AS personnes
FROM courantes c
GROUP BY c.territoire, c.mois
UNION ALL
SELECT c.territoire, c.mois, 'orientation' AS ventilation, coalesce(c.orientation, 'non_renseignee') AS modalite,
       count(*) AS numerateur,
       max(t.n) AS denominateur,
       count(*) AS personnes
FROM courantes c
JOIN totaux t ON t.territoire = c.territoire AND t.mois = c.mois
GROUP BY c.territoire, c.mois, coalesce(c.orientation, 'non_renseignee')
