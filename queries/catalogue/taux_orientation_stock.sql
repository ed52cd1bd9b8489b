-- id: taux_orientation_stock
-- titre: Part des personnes en droits et devoirs orientées
-- sorte: taux
-- definition: Parmi les personnes soumises aux droits et devoirs à la fin du mois M, part de celles qui ont reçu une orientation (orientation ou réorientation) au plus tard ce jour-là ; selon l'ancienneté dans le droit (moins de 6 mois, 6 à 12 mois, 12 mois ou plus).
-- numerateur: personnes en droits et devoirs à la fin du mois M déjà orientées
-- denominateur: personnes en droits et devoirs à la fin du mois M
-- fenetre: aucune
-- fenetre_jours: 0
-- maturite: le mois M est publié quand son dernier jour est au plus tard la date d'extraction du territoire
-- lien: denominateur = beneficiaires_dd.numerateur
-- direction: hausse
-- unite: taux
-- ventilations: anciennete
-- ventilation anciennete: partition ; moins_6_mois, 6_12_mois, 12_mois_plus

-- Stocks as intervals (issue 16): each episode in droits et devoirs is split into its seniority
-- sub-intervals (the month M is under 6 months when its last day is before the episode's start
-- plus 6 months, that is when M is before the month of that date), each of them at the month of
-- the person's first orientation (oriented from that month on); a running sum over months of
-- +1 at each start and -1 at each end, per seniority and oriented or not, gives the stock.
-- The stock runs over the six fixed (seniority, oriented) cells rather than the ones found in
-- the movements, which DataFusion would compute a second time (a CTE is computed again at every
-- reference); a cell without movement stays at zero and is not written (issue 16).
-- A person's first decision comes from the view `decisions_nombres`, computed once.
WITH orientes AS (
    SELECT territoire, personne, CAST(date_trunc('month', date) AS DATE) AS mois
    FROM decisions_nombres
),
seuils AS (
    SELECT territoire, personne, entree, sortie,
           CAST(date_trunc('month', CAST(debut + INTERVAL '6 months' AS DATE)) AS DATE) AS mois_6,
           CAST(date_trunc('month', CAST(debut + INTERVAL '12 months' AS DATE)) AS DATE) AS mois_12
    FROM dd_intervalles
),
tranches AS (
    SELECT s.territoire, s.personne, a.anciennete,
           CASE a.anciennete WHEN 'moins_6_mois' THEN s.entree
                             WHEN '6_12_mois' THEN greatest(s.entree, s.mois_6)
                             ELSE greatest(s.entree, s.mois_12) END AS entree,
           CASE a.anciennete WHEN 'moins_6_mois' THEN least(s.sortie, s.mois_6)
                             WHEN '6_12_mois' THEN least(s.sortie, s.mois_12)
                             ELSE s.sortie END AS sortie
    FROM seuils s
    CROSS JOIN (VALUES ('moins_6_mois'), ('6_12_mois'), ('12_mois_plus')) AS a(anciennete)
),
mouvements AS (
    SELECT territoire, anciennete, oriente, mois, sum(n) AS n
    FROM (
        SELECT t.territoire, t.anciennete, s.oriente,
               CASE WHEN s.oriente = 0 AND s.n = 1 THEN t.entree
                    WHEN s.oriente = 0 THEN CASE WHEN o.mois IS NULL THEN t.sortie ELSE least(t.sortie, o.mois) END
                    WHEN s.n = 1 THEN greatest(t.entree, o.mois)
                    ELSE t.sortie END AS mois,
               s.n
        FROM tranches t
        LEFT JOIN orientes o ON o.territoire = t.territoire AND o.personne = t.personne
        CROSS JOIN (VALUES (0, 1), (0, -1), (1, 1), (1, -1)) AS s(oriente, n)
        WHERE (s.oriente = 0 AND t.entree < CASE WHEN o.mois IS NULL THEN t.sortie ELSE least(t.sortie, o.mois) END)
           OR (s.oriente = 1 AND o.mois IS NOT NULL AND greatest(t.entree, o.mois) < t.sortie)
    )
    GROUP BY territoire, anciennete, oriente, mois
),
stock AS (
    SELECT g.territoire, g.mois, c.anciennete, c.oriente,
           sum(coalesce(m.n, 0)) OVER (PARTITION BY g.territoire, c.anciennete, c.oriente ORDER BY g.mois) AS n
    FROM grille g
    CROSS JOIN (VALUES ('moins_6_mois', 0), ('moins_6_mois', 1), ('6_12_mois', 0), ('6_12_mois', 1),
                       ('12_mois_plus', 0), ('12_mois_plus', 1)) AS c(anciennete, oriente)
    LEFT JOIN mouvements m
           ON m.territoire = g.territoire AND m.anciennete = c.anciennete
          AND m.oriente = c.oriente AND m.mois = g.mois
)
SELECT s.territoire,
       s.mois,
       v.ventilation,
       CASE WHEN v.ventilation = '' THEN '' ELSE s.anciennete END AS modalite,
       sum(CASE WHEN s.oriente = 1 THEN s.n ELSE 0 END) AS numerateur,
       sum(s.n) AS denominateur,
       sum(s.n) AS personnes
FROM stock s
CROSS JOIN (VALUES (''), ('anciennete')) AS v(ventilation)
GROUP BY s.territoire, s.mois, v.ventilation, CASE WHEN v.ventilation = '' THEN '' ELSE s.anciennete END
HAVING sum(s.n) > 0
