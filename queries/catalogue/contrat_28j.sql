-- id: contrat_28j
-- titre: Contrat signé en 28 jours
-- sorte: taux
-- definition: Part des personnes orientées pour la première fois dans le mois M qui ont signé un contrat (CER, PPAE, contrat d'engagement, CEJ, PACEA) dans les 28 jours suivant leur orientation ; par type du premier contrat signé.
-- lecture: le type retenu est celui du premier contrat signé dans les 28 jours ; deux contrats le même jour sont départagés par l'ordre alphabétique du type ; une personne compte une fois.
-- numerateur: personnes orientées dans le mois M avec un contrat signé au plus 28 jours après l'orientation (par modalité : dont le premier contrat est de ce type)
-- denominateur: personnes orientées pour la première fois dans le mois M
-- fenetre: 28 jours
-- fenetre_jours: 28
-- maturite: le mois M est publié quand son dernier jour plus 28 jours est au plus tard la date d'extraction du territoire
-- direction: hausse
-- unite: taux
-- ventilations: type_contrat
-- ventilation type_contrat: numerateurs ; cer, ppae, contrat_engagement, cej, pacea
-- The first contract is the one of the earliest date, the smallest type among that day's (a
-- window partitioned by person costs DataFusion more than the two groupings; issue 16).
WITH contrats AS (
    SELECT o.territoire, o.personne, o.mois, c.date, c.type_contrat
    FROM orientes_du_mois o
    JOIN bornes b ON b.territoire = o.territoire
    JOIN evenements c
      ON c.territoire = o.territoire AND c.personne = o.personne
     AND c.evenement = 'contrat_signe'
     AND c.date >= o.date AND c.date <= CAST(o.date + INTERVAL '28 days' AS DATE)
    WHERE CAST(o.fin_mois + INTERVAL '28 days' AS DATE) <= b.date_extraction
),
premiers AS (
    SELECT territoire, personne, min(date) AS date
    FROM contrats
    GROUP BY territoire, personne
),
signes AS (
    SELECT c.territoire, c.personne, c.mois, min(c.type_contrat) AS premier
    FROM contrats c
    JOIN premiers p ON p.territoire = c.territoire AND p.personne = c.personne AND p.date = c.date
    GROUP BY c.territoire, c.personne, c.mois
),
cohorte AS (
    SELECT o.territoire, o.mois, count(*) AS n
    FROM orientes_du_mois o
    JOIN bornes b ON b.territoire = o.territoire
    WHERE CAST(o.fin_mois + INTERVAL '28 days' AS DATE) <= b.date_extraction
    GROUP BY o.territoire, o.mois
),
-- The people with a contract, per month (`grouping(premier) = 1`) and per type of their first
-- contract, in one grouping: DataFusion computes a CTE again at every reference (issue 16).
comptes AS (
    SELECT territoire, mois, premier, grouping(premier) AS total, count(*) AS n
    FROM signes
    GROUP BY GROUPING SETS ((territoire, mois), (territoire, mois, premier))
)
-- Every month of the cohort has its total (0 without contract); each type signed has its row.
SELECT k.territoire, k.mois,
       CASE WHEN s.total = 0 THEN 'type_contrat' ELSE '' END AS ventilation,
       CASE WHEN s.total = 0 THEN s.premier ELSE '' END AS modalite,
       coalesce(s.n, 0) AS numerateur, k.n AS denominateur,
       CASE WHEN s.total = 0 THEN s.n ELSE k.n END AS personnes
FROM cohorte k
LEFT JOIN comptes s ON s.territoire = k.territoire AND s.mois = k.mois
