-- Shared views of the indicator catalogue. Each statement ends with a line holding only ';'.

-- Each territory's data is complete up to the extraction date of its drop in place.
CREATE OR REPLACE VIEW extractions AS
SELECT territoire, max(date_extraction) AS date_extraction
FROM depots
WHERE statut = 'integre'
GROUP BY territoire
;
-- A person's first RSA right opened (their entry).
CREATE OR REPLACE VIEW premieres_ouvertures AS
SELECT territoire, personne, min(date) AS date
FROM evenements
WHERE evenement = 'droit_ouvert'
GROUP BY territoire, personne
;
-- A person's first orientation on or after their entry.
CREATE OR REPLACE VIEW premieres_orientations AS
SELECT e.territoire, e.personne, min(e.date) AS date
FROM evenements e
JOIN premieres_ouvertures o ON o.territoire = e.territoire AND o.personne = e.personne
WHERE e.evenement = 'orientation' AND e.date >= o.date
GROUP BY e.territoire, e.personne
;
-- Entrants with their month of entry and, if any, their delay to a first orientation.
CREATE OR REPLACE VIEW entrants_orientes AS
SELECT o.territoire,
       o.personne,
       CAST(date_trunc('month', o.date) AS DATE) AS mois,
       CAST(date_trunc('month', o.date) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) AS fin_mois,
       CAST(r.date - o.date AS BIGINT) AS delai
FROM premieres_ouvertures o
LEFT JOIN premieres_orientations r ON r.territoire = o.territoire AND r.personne = o.personne
;
-- Each territory's first month that is not complete in its data (months before it are mature
-- for indicators without a window).
CREATE OR REPLACE VIEW bornes AS
SELECT territoire,
       date_extraction,
       CAST(date_trunc('month', date_extraction + INTERVAL '1 day') AS DATE) AS mois_limite
FROM extractions
;
-- RSA episodes: from a right opened to the next one; with the entry into droits et devoirs and
-- the closing of the right within the episode.
CREATE OR REPLACE VIEW episodes AS
WITH ouv AS (
    SELECT territoire, personne, date AS debut,
           lead(date) OVER (PARTITION BY territoire, personne ORDER BY date) AS suivant
    FROM (SELECT DISTINCT territoire, personne, date FROM evenements WHERE evenement = 'droit_ouvert')
)
SELECT o.territoire, o.personne, o.debut,
       min(CASE WHEN e.evenement = 'entree_droits_devoirs' THEN e.date END) AS entree_dd,
       min(CASE WHEN e.evenement = 'droit_clos' THEN e.date END) AS fin
FROM ouv o
LEFT JOIN evenements e
       ON e.territoire = o.territoire AND e.personne = o.personne
      AND e.evenement IN ('entree_droits_devoirs', 'droit_clos')
      AND e.date >= o.debut AND (o.suivant IS NULL OR e.date < o.suivant)
GROUP BY o.territoire, o.personne, o.debut
;
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
-- People oriented in a month: their first orientation.
CREATE OR REPLACE VIEW orientes_du_mois AS
SELECT territoire, personne, date,
       CAST(date_trunc('month', date) AS DATE) AS mois,
       CAST(date_trunc('month', date) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) AS fin_mois
FROM (
    SELECT territoire, personne, min(date) AS date
    FROM evenements
    WHERE evenement = 'orientation'
    GROUP BY territoire, personne
)
;
