-- Rows landed per territory by its drop in force (its latest integrated one): sizes the groups
-- of territories computed together.
SELECT territoire, CAST(last_value(lignes_integrees ORDER BY traite_le) AS BIGINT) AS lignes
FROM depots
WHERE statut = 'integre'
GROUP BY territoire
