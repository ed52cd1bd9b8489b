-- id: taux_absenteisme
-- titre: Taux d'absentéisme aux rendez-vous
-- sorte: taux
-- definition: Part des rendez-vous du mois M où la personne était absente, parmi les rendez-vous du mois honorés, manqués, excusés ou annulés.
-- numerateur: rendez-vous du mois M au statut absent
-- denominateur: rendez-vous du mois M au statut honore, absent, excuse ou annule
-- fenetre: aucune
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- direction: baisse
-- unite: taux
-- ventilations: type_rdv
-- ventilation type_rdv: partition ; orientation, accompagnement, diagnostic, autre
SELECT r.territoire,
       CAST(date_trunc('month', r.date) AS DATE) AS mois,
       v.ventilation,
       CASE WHEN v.ventilation = '' THEN '' ELSE r.type_rdv END AS modalite,
       sum(CASE WHEN r.statut_rdv = 'absent' THEN 1 ELSE 0 END) AS numerateur,
       count(*) AS denominateur,
       count(DISTINCT r.personne) AS personnes
FROM evenements r
JOIN extractions x ON x.territoire = r.territoire
CROSS JOIN (VALUES (''), ('type_rdv')) AS v(ventilation)
WHERE r.evenement = 'rdv'
  AND r.statut_rdv IN ('honore', 'absent', 'excuse', 'annule')
  AND CAST(date_trunc('month', r.date) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) <= x.date_extraction
GROUP BY r.territoire, CAST(date_trunc('month', r.date) AS DATE), v.ventilation,
         CASE WHEN v.ventilation = '' THEN '' ELSE r.type_rdv END
