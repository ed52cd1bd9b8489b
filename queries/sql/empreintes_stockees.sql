-- Each territory's stamp, from the row of its stored accumulators that carries only the stamp
-- (issue 16): the incremental refresh recomputes the territories whose stamp changed.
SELECT territoire, empreinte
FROM accumulateurs
WHERE indicateur = ''
