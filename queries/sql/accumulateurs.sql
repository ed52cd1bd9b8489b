-- The stored accumulators of every territory (issue 16), read back by an incremental refresh.
SELECT territoire,
       empreinte,
       indicateur,
       mois,
       ventilation,
       modalite,
       CAST(numerateur AS BIGINT) AS numerateur,
       CAST(denominateur AS BIGINT) AS denominateur,
       CAST(personnes AS BIGINT) AS personnes,
       CAST(jours AS BIGINT) AS jours
FROM accumulateurs
