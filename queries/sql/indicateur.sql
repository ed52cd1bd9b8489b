-- One indicator's published cells, read from the materialised table.
-- $1: indicator id; $2: a territory id to keep among territory cells ('' for all);
-- $3: a month 'AAAA-MM-01' ('' for all).
SELECT indicateur, niveau, code, mois, ventilation, modalite,
       numerateur, denominateur, personnes, valeur, ic_bas, ic_haut, q1, q3, moyenne, secret,
       territoires, territoires_attendus, couverture, provisoire
FROM indicateurs
WHERE indicateur = $1
  AND (niveau <> 'territoire' OR $2 = '' OR code = $2)
  AND ($3 = '' OR CAST(mois AS VARCHAR) = $3)
ORDER BY mois, niveau, code, ventilation, modalite
