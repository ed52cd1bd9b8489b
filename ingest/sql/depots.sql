-- Drops already processed: their content hash, territory, outcome and extraction date.
-- Read once per ingestion run to recognise drops already integrated and each territory's
-- latest extraction.
SELECT depot, territoire, statut, date_extraction
FROM depots
