-- The evenements version the materialised cells were computed from, and when.
SELECT CAST(max(version_evenements) AS BIGINT) AS version_evenements, max(calcule_le) AS calcule_le
FROM indicateurs
