-- Every published cell of the materialised table, for the pages (same columns as indicateur.sql).
SELECT indicateur, niveau, code, mois, ventilation, modalite,
       numerateur, denominateur, personnes, valeur, ic_bas, ic_haut, q1, q3, moyenne, secret,
       territoires, territoires_attendus, couverture, provisoire
FROM indicateurs
ORDER BY indicateur, niveau, code, mois, ventilation, modalite
