-- The rejected rows of one territory's drop in force ($1: territory id), in file order.
-- Line, column and reason only: the rejects table never holds a value.
SELECT depot, fichier, ligne, colonne, motif
FROM rejets
WHERE territoire = $1
ORDER BY ligne, colonne, motif
