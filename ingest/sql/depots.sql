-- Drops already processed: their content hash, territory, outcome, extraction date, people
-- and when they were processed. Read once per ingestion run to recognise drops already
-- integrated, each territory's latest extraction and the people of the drop in place.
SELECT depot, territoire, statut, date_extraction, personnes, traite_le
FROM depots
