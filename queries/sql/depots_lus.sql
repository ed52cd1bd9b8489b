-- Every processed drop, oldest first, for the data-quality pages.
SELECT territoire, fichier, date_extraction, traite_le, statut, message,
       lignes_lues, lignes_integrees, lignes_rejetees,
       rejets_identifiant_manquant, rejets_valeur_manquante, rejets_code_inconnu,
       rejets_date_impossible, rejets_date_future, rejets_evenement_avant_naissance, rejets_doublon,
       depot
FROM depots
ORDER BY traite_le, territoire, fichier
