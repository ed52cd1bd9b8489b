-- Each territory's extraction date of its drop in force (its data are complete up to that day).
SELECT territoire, max(date_extraction) AS date_extraction
FROM depots
WHERE statut = 'integre'
GROUP BY territoire
