-- Each territory's extent: the extraction date of its drop in force (its data are complete up
-- to that day) and the first month of its events (months before it are not covered).
WITH extractions AS (
    SELECT territoire, max(date_extraction) AS date_extraction
    FROM depots
    WHERE statut = 'integre'
    GROUP BY territoire
)
SELECT x.territoire,
       x.date_extraction,
       CAST(date_trunc('month', min(e.date)) AS DATE) AS premier_mois
FROM extractions x
JOIN evenements e ON e.territoire = x.territoire
GROUP BY x.territoire, x.date_extraction
