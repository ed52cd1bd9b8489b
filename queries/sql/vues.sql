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
-- Most people have one right opened: they come straight from the count; for the others, the
-- next opening is the earliest later one. No window partitioned by person: DataFusion spends
-- about 2 µs per person on one, more than the rest of the view (issue 16).
-- The openings and their count per person are views of their own, not CTEs: DataFusion
-- computes a CTE again at each reference, and a view read twice is computed once (issue 16).
CREATE OR REPLACE VIEW ouvertures_droits AS
SELECT DISTINCT territoire, personne, date FROM evenements WHERE evenement = 'droit_ouvert'
;
CREATE OR REPLACE VIEW ouvertures_nombres AS
SELECT territoire, personne, count(*) AS k, min(date) AS date
FROM ouvertures_droits
GROUP BY territoire, personne
;
CREATE OR REPLACE VIEW episodes AS
WITH ouv AS (
    SELECT territoire, personne, date AS debut, CAST(NULL AS DATE) AS suivant
    FROM ouvertures_nombres
    WHERE k = 1
    UNION ALL
    SELECT o.territoire, o.personne, o.date AS debut, min(s.date) AS suivant
    FROM ouvertures_droits o
    JOIN ouvertures_nombres n ON n.territoire = o.territoire AND n.personne = o.personne
    LEFT JOIN ouvertures_droits s ON s.territoire = o.territoire AND s.personne = o.personne AND s.date > o.date
    WHERE n.k > 1
    GROUP BY o.territoire, o.personne, o.date
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
-- Stocks as intervals of months (issue 16): a person counts in the stock of every month M from
-- `entree` (included) to `sortie` (excluded); a stock is the running sum over months of +1 at
-- each `entree` and -1 at each `sortie`, never one row per person and month.
-- Droits et devoirs within each episode: from the month of the entry to the month of the
-- closing of the right (a right closed during month M does not count at its end), or up to the
-- territory's first immature month; with the start of the episode (for seniority). Episodes
-- that count in no month are left out.
CREATE OR REPLACE VIEW dd_intervalles AS
SELECT territoire, personne, debut, entree, sortie
FROM (
    SELECT p.territoire, p.personne, p.debut,
           CAST(date_trunc('month', p.entree_dd) AS DATE) AS entree,
           CASE WHEN p.fin IS NOT NULL AND CAST(date_trunc('month', p.fin) AS DATE) < b.mois_limite
                THEN CAST(date_trunc('month', p.fin) AS DATE)
                ELSE b.mois_limite END AS sortie
    FROM episodes p
    JOIN bornes b ON b.territoire = p.territoire
    WHERE p.entree_dd IS NOT NULL
)
WHERE entree < sortie
;
-- Each territory's months from its first month in droits et devoirs to its first immature month:
-- the grid the stocks are reported on (territories x months, a few thousand rows).
CREATE OR REPLACE VIEW grille AS
SELECT territoire, unnest(range(premier, mois_limite, INTERVAL '1 month')) AS mois
FROM (
    SELECT i.territoire, min(i.entree) AS premier, max(b.mois_limite) AS mois_limite
    FROM dd_intervalles i
    JOIN bornes b ON b.territoire = i.territoire
    GROUP BY i.territoire
)
;
-- The intervals of months merged per person, by nature: droits et devoirs (`dd`, the intervals
-- of the episodes) and coverage by a contract (`cer`: a CER, or from 1 January 2025 a contrat
-- d'engagement, signed on day D covers the months M whose last day is from D to D + 364 days,
-- that is from the month of D to the month of D + 365 days excluded).
CREATE OR REPLACE VIEW intervalles AS
SELECT 'dd' AS nature, territoire, personne, entree, sortie
FROM dd_intervalles
UNION ALL
SELECT 'cer' AS nature, c.territoire, c.personne,
       CAST(date_trunc('month', c.date) AS DATE) AS entree,
       CAST(date_trunc('month', CAST(c.date + INTERVAL '365 days' AS DATE)) AS DATE) AS sortie
FROM evenements c
WHERE c.evenement = 'contrat_signe'
  AND (c.type_contrat = 'cer'
       OR (c.type_contrat = 'contrat_engagement' AND c.date >= DATE '2025-01-01'))
;
-- A person's periods of each nature: their intervals merged where they overlap (an episode never
-- closed runs on under the next one, a contract renewed before its end extends the coverage),
-- so a person counts once a month. A person with one interval of a nature has it as their one
-- period (most people); the others' periods are found by joins, not windows (see `episodes`).
-- The count per person and the intervals of people with several are views, read twice and
-- three times (see `ouvertures_droits`).
CREATE OR REPLACE VIEW intervalles_nombres AS
SELECT nature, territoire, personne, count(*) AS k, min(entree) AS entree, max(sortie) AS sortie
FROM intervalles
GROUP BY nature, territoire, personne
;
CREATE OR REPLACE VIEW intervalles_plusieurs AS
SELECT i.nature, i.territoire, i.personne, i.entree, i.sortie
FROM intervalles i
JOIN intervalles_nombres n ON n.nature = i.nature AND n.territoire = i.territoire AND n.personne = i.personne
WHERE n.k > 1
;
CREATE OR REPLACE VIEW periodes AS
WITH
-- A period starts at a month that no earlier interval of the person reaches (intervals are never
-- empty); each interval belongs to the period of the latest start at or before its own.
debuts AS (
    SELECT DISTINCT p.nature, p.territoire, p.personne, p.entree
    FROM intervalles_plusieurs p
    WHERE NOT EXISTS (
        SELECT 1 FROM intervalles_plusieurs j
        WHERE j.nature = p.nature AND j.territoire = p.territoire AND j.personne = p.personne
          AND j.entree < p.entree AND j.sortie >= p.entree
    )
),
rattaches AS (
    SELECT p.nature, p.territoire, p.personne, p.sortie, max(d.entree) AS debut
    FROM intervalles_plusieurs p
    JOIN debuts d ON d.nature = p.nature AND d.territoire = p.territoire AND d.personne = p.personne
                 AND d.entree <= p.entree
    GROUP BY p.nature, p.territoire, p.personne, p.entree, p.sortie
)
SELECT nature, territoire, personne, entree, sortie
FROM intervalles_nombres
WHERE k = 1
UNION ALL
SELECT nature, territoire, personne, debut AS entree, max(sortie) AS sortie
FROM rattaches
GROUP BY nature, territoire, personne, debut
;
-- A person's periods in droits et devoirs.
CREATE OR REPLACE VIEW dd_periodes AS
SELECT territoire, personne, entree, sortie
FROM periodes
WHERE nature = 'dd'
;
-- People subject to droits et devoirs at the end of each mature month M (entered, not closed by
-- then): months with nobody are left out.
CREATE OR REPLACE VIEW dd_stock AS
WITH mouvements AS (
    SELECT p.territoire, CASE WHEN s.n = 1 THEN p.entree ELSE p.sortie END AS mois, sum(s.n) AS n
    FROM dd_periodes p
    CROSS JOIN (VALUES (1), (-1)) AS s(n)
    GROUP BY p.territoire, CASE WHEN s.n = 1 THEN p.entree ELSE p.sortie END
),
cumul AS (
    SELECT g.territoire, g.mois,
           sum(coalesce(m.n, 0)) OVER (PARTITION BY g.territoire ORDER BY g.mois) AS n
    FROM grille g
    LEFT JOIN mouvements m ON m.territoire = g.territoire AND m.mois = g.mois
)
SELECT territoire, mois, n
FROM cumul
WHERE n > 0
;
-- Orientations in force at the end of each month: from an orientation (or reorientation) to
-- the next one, as intervals of months (an orientation followed by another the same month is in
-- force at the end of no month). Two decisions on the same day are ordered by kind, body and
-- category, so the one in force is always the same (the last in that order): a person has one
-- orientation in force (issue 12), and a person's intervals do not overlap.
-- The decisions (orientations and reorientations) and their number per person are views, each
-- read twice (see `ouvertures_droits`).
CREATE OR REPLACE VIEW decisions AS
SELECT territoire, personne, date, evenement, organisme, orientation
FROM evenements
WHERE evenement IN ('orientation', 'reorientation')
;
CREATE OR REPLACE VIEW decisions_nombres AS
SELECT territoire, personne, count(*) AS k, min(date) AS date,
       min(organisme) AS organisme, min(orientation) AS orientation
FROM decisions
GROUP BY territoire, personne
;
CREATE OR REPLACE VIEW orientations_intervalles AS
SELECT territoire, personne, organisme, orientation, entree, sortie
FROM (
    SELECT o.territoire, o.personne, o.organisme, o.orientation,
           CAST(date_trunc('month', o.date) AS DATE) AS entree,
           CASE WHEN o.suivante IS NOT NULL AND CAST(date_trunc('month', o.suivante) AS DATE) < b.mois_limite
                THEN CAST(date_trunc('month', o.suivante) AS DATE)
                ELSE b.mois_limite END AS sortie
    FROM (
        -- One decision: its values are the group's (min of one row); several: the window.
        SELECT territoire, personne, date, organisme, orientation, CAST(NULL AS DATE) AS suivante
        FROM decisions_nombres
        WHERE k = 1
        UNION ALL
        SELECT d.territoire, d.personne, d.date, d.organisme, d.orientation,
               lead(d.date) OVER (PARTITION BY d.territoire, d.personne ORDER BY d.date, d.evenement, d.organisme, d.orientation) AS suivante
        FROM decisions d
        JOIN decisions_nombres n ON n.territoire = d.territoire AND n.personne = d.personne
        WHERE n.k > 1
    ) o
    JOIN bornes b ON b.territoire = o.territoire
)
WHERE entree < sortie
;
-- People in droits et devoirs with the orientation in force: a period in droits et devoirs
-- intersected with an orientation's interval (neither overlaps another of the same person, so
-- neither do these).
CREATE OR REPLACE VIEW orientations_dd AS
SELECT d.territoire, d.personne, o.organisme, o.orientation,
       greatest(d.entree, o.entree) AS entree,
       least(d.sortie, o.sortie) AS sortie
FROM dd_periodes d
JOIN orientations_intervalles o
  ON o.territoire = d.territoire AND o.personne = d.personne
 AND o.entree < d.sortie AND d.entree < o.sortie
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
-- Each person's first diagnostic month, when mature, with their territory's first immature
-- month: the denominators of prevalence_freins, read there three times (see
-- `ouvertures_droits`).
CREATE OR REPLACE VIEW premiers_diagnostics AS
SELECT d.territoire, d.personne, d.mois, b.mois_limite
FROM (
    SELECT g.territoire, CAST(date_trunc('month', min(g.date)) AS DATE) AS mois, g.personne
    FROM evenements g
    WHERE g.evenement = 'diagnostic'
    GROUP BY g.territoire, g.personne
) d
JOIN bornes b ON b.territoire = d.territoire
WHERE d.mois < b.mois_limite
;
