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
