-- id: taux_orientation_stock
-- titre: Part des personnes en droits et devoirs orientées
-- sorte: taux
-- definition: Parmi les personnes soumises aux droits et devoirs à la fin du mois M, part de celles qui ont reçu une orientation (orientation ou réorientation) au plus tard ce jour-là ; selon l'ancienneté dans le droit (moins de 6 mois, 6 à 12 mois, 12 mois ou plus).
-- numerateur: personnes en droits et devoirs à la fin du mois M déjà orientées
-- denominateur: personnes en droits et devoirs à la fin du mois M
-- fenetre: aucune
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- lien: denominateur = beneficiaires_dd.numerateur
-- direction: hausse
-- unite: taux
-- ventilations: anciennete
-- ventilation anciennete: partition ; moins_6_mois, 6_12_mois, 12_mois_plus
WITH stock AS (
    SELECT d.territoire, d.personne, d.mois,
           CASE WHEN d.fin_mois < CAST(d.debut + INTERVAL '6 months' AS DATE) THEN 'moins_6_mois'
                WHEN d.fin_mois < CAST(d.debut + INTERVAL '12 months' AS DATE) THEN '6_12_mois'
                ELSE '12_mois_plus' END AS anciennete,
           CASE WHEN min(o.date) <= d.fin_mois THEN 1 ELSE 0 END AS oriente
    FROM dd_mois d
    LEFT JOIN evenements o
           ON o.territoire = d.territoire AND o.personne = d.personne
          AND o.evenement IN ('orientation', 'reorientation')
    GROUP BY d.territoire, d.personne, d.mois, d.fin_mois, d.debut
)
SELECT s.territoire,
       s.mois,
       v.ventilation,
       CASE WHEN v.ventilation = '' THEN '' ELSE s.anciennete END AS modalite,
       sum(s.oriente) AS numerateur,
       count(*) AS denominateur,
       count(*) AS personnes
FROM stock s
CROSS JOIN (VALUES (''), ('anciennete')) AS v(ventilation)
GROUP BY s.territoire, s.mois, v.ventilation, CASE WHEN v.ventilation = '' THEN '' ELSE s.anciennete END
