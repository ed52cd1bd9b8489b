-- The people of one territory ($1: territory id) for an evaluator's export (issue #6). The
-- warehouse pseudonym is replaced by the export project's (`pseudonyme_export`, registered in
-- each export's own session); rows are ordered by that pseudonym, then by every column, so their
-- order reveals nothing of the warehouse's and the same data always give the same rows.
SELECT territoire, personne, annee_naissance, sexe, departement, niveau_formation,
       situation_familiale, cle_nir
FROM (
    SELECT territoire, pseudonyme_export(personne) AS personne, annee_naissance, sexe,
           departement, niveau_formation, situation_familiale, cle_nir
    FROM personnes
    WHERE territoire = $1
) AS p
ORDER BY personne, annee_naissance, sexe, departement, niveau_formation, situation_familiale,
         cle_nir
