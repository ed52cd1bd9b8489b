-- The events of one territory ($1: territory id) for an evaluator's export (issue #6). The
-- warehouse pseudonym is replaced by the export project's (`pseudonyme_export`, registered in
-- each export's own session); rows are ordered by that pseudonym, then by every column, so their
-- order reveals nothing of the warehouse's and the same data always give the same rows.
-- `ligne` (the row's place in its drop) is left out: it would link two projects' exports.
SELECT territoire, personne, date, evenement, orientation, organisme, type_rdv, statut_rdv,
       type_frein, intensite, type_contrat, type_action, type_sortie, motif
FROM (
    SELECT territoire, pseudonyme_export(personne) AS personne, date, evenement, orientation,
           organisme, type_rdv, statut_rdv, type_frein, intensite, type_contrat, type_action,
           type_sortie, motif
    FROM evenements
    WHERE territoire = $1
) AS e
ORDER BY personne, date, evenement, orientation, organisme, type_rdv, statut_rdv, type_frein,
         intensite, type_contrat, type_action, type_sortie, motif
