-- Reference for tests only (issue 16): the expanding formulation of the stocks, one row per
-- person and month, as `vues.sql` defined it before the stocks were recast as intervals. Run
-- after `vues.sql` (it reads `episodes` and `bornes`); the files beside it are the catalogue's
-- stock indicators as they were, reading these views. Each statement ends with a line holding
-- only ';'.

-- People subject to droits et devoirs at the end of each mature month M: entered, not closed by
-- then; with the start of their episode (for seniority).
CREATE OR REPLACE VIEW dd_mois AS
SELECT territoire, personne, debut, mois,
       CAST(mois + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) AS fin_mois
FROM (
    SELECT p.territoire, p.personne, p.debut,
           unnest(range(CAST(date_trunc('month', p.entree_dd) AS DATE),
                        CASE WHEN p.fin IS NOT NULL AND CAST(date_trunc('month', p.fin) AS DATE) < b.mois_limite
                             THEN CAST(date_trunc('month', p.fin) AS DATE)
                             ELSE b.mois_limite END,
                        INTERVAL '1 month')) AS mois
    FROM episodes p
    JOIN bornes b ON b.territoire = p.territoire
    WHERE p.entree_dd IS NOT NULL
)
;
-- Orientations in force at the end of each month: from an orientation (or reorientation) to
-- the next one. Two decisions on the same day are ordered by kind, body and category, so the
-- one in force is always the same (the last in that order): a person has one orientation in
-- force (issue 12).
CREATE OR REPLACE VIEW orientations_mois AS
SELECT territoire, personne, organisme, orientation, mois
FROM (
    SELECT o.territoire, o.personne, o.organisme, o.orientation,
           unnest(range(CAST(date_trunc('month', o.date) AS DATE),
                        CASE WHEN o.suivante IS NOT NULL AND CAST(date_trunc('month', o.suivante) AS DATE) < b.mois_limite
                             THEN CAST(date_trunc('month', o.suivante) AS DATE)
                             ELSE b.mois_limite END,
                        INTERVAL '1 month')) AS mois
    FROM (
        SELECT territoire, personne, date, organisme, orientation,
               lead(date) OVER (PARTITION BY territoire, personne ORDER BY date, evenement, organisme, orientation) AS suivante
        FROM evenements
        WHERE evenement IN ('orientation', 'reorientation')
    ) o
    JOIN bornes b ON b.territoire = o.territoire
)
;
-- People in droits et devoirs at the end of a month with the orientation in force then (one
-- row per person, month and orientation in force: several when orientations were given the
-- same month).
CREATE OR REPLACE VIEW orientations_en_cours AS
SELECT DISTINCT d.territoire, d.personne, d.mois, d.fin_mois, o.organisme, o.orientation
FROM dd_mois d
JOIN orientations_mois o ON o.territoire = d.territoire AND o.personne = d.personne AND o.mois = d.mois
;
