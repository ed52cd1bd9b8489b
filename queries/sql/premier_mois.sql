-- One territory's first month with an event (months before it are not covered): only its
-- partition of the events is read. No row when it has no event.
SELECT territoire, CAST(date_trunc('month', min(date)) AS DATE) AS premier_mois
FROM evenements
WHERE territoire = $1
GROUP BY territoire
