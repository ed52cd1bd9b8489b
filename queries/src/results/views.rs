//! What the pages read from the results: the snapshot of a month, the overview, an
//! indicator's report, a territory's, the quality of the drops.

use super::*;

impl Results {
    /// Territory totals of an indicator for a month (all territories, secret ones included).
    fn territory_totals(&self, indicator: &str, mois: NaiveDate, register: &Register) -> Vec<Cell> {
        register
            .iter()
            .filter_map(|t| self.total(indicator, Niveau::Territoire, &t.id, mois))
            .cloned()
            .collect()
    }

    /// An indicator's levels for a month.
    pub fn snapshot<'a>(
        &'a self,
        indicator: &str,
        mois: NaiveDate,
        register: &Register,
    ) -> Snapshot<'a> {
        let totals = self.territory_totals(indicator, mois, register);
        Snapshot {
            mois,
            national: self.total(indicator, Niveau::National, "national", mois),
            vagues: Wave::ALL
                .iter()
                .map(|w| (*w, self.total(indicator, Niveau::Vague, w.code(), mois)))
                .collect(),
            dispersion: comparison::spread(&totals, mois, register, None),
            dispersion_vagues: Wave::ALL
                .iter()
                .map(|w| (*w, comparison::spread(&totals, mois, register, Some(*w))))
                .collect(),
        }
    }

    fn trend(
        &self,
        indicator: &str,
        niveau: Niveau,
        code: &str,
        mois: NaiveDate,
    ) -> (Vec<(NaiveDate, Option<f64>)>, Option<f64>) {
        comparison::trend(self.series(indicator, niveau, code), niveau, code, mois)
    }

    /// The national view: every indicator at its latest mature month.
    pub fn overview<'a>(
        &'a self,
        catalogue: &'a Catalogue,
        register: &Register,
    ) -> Vec<OverviewRow<'a>> {
        catalogue
            .iter()
            .filter_map(|ind| {
                let mois = self.latest_month(&ind.id, register)?;
                Some(OverviewRow {
                    indicateur: ind,
                    snapshot: self.snapshot(&ind.id, mois, register),
                    tendance: self.trend(&ind.id, Niveau::National, "national", mois),
                })
            })
            .collect()
    }

    /// One indicator's page for a month (default: its latest mature month), optionally one
    /// wave's territories and one breakdown. `None` when the month has no national total.
    pub fn indicator<'a>(
        &'a self,
        ind: &'a Indicator,
        register: &'a Register,
        mois: Option<NaiveDate>,
        vague: Option<Wave>,
        ventilation: Option<&str>,
    ) -> Option<IndicatorReport<'a>> {
        let disponibles = self.months(&ind.id);
        let mois = match mois {
            Some(m) => disponibles.contains(&m).then_some(m)?,
            None => self.latest_month(&ind.id, register)?,
        };
        let totals = self.territory_totals(&ind.id, mois, register);
        let mut classement: Vec<Ranked<'a>> = register
            .iter()
            .filter(|t| vague.is_none_or(|w| t.vague == w))
            .map(|t| Ranked {
                territoire: t,
                cell: self.total(&ind.id, Niveau::Territoire, &t.id, mois),
                rang: comparison::rank(&totals, mois, register, ind.direction, &t.id).map(|r| r.0),
            })
            .collect();
        let published = |r: &Ranked| r.cell.filter(|c| !c.secret).and_then(|c| c.valeur);
        // Published values best first, then secret cells, then territories without data.
        let class = |r: &Ranked| match r.cell {
            Some(c) if !c.secret && c.valeur.is_some() => 0,
            Some(c) if c.secret => 1,
            _ => 2,
        };
        classement.sort_by(|a, b| {
            class(a)
                .cmp(&class(b))
                .then_with(|| match (published(a), published(b)) {
                    (Some(x), Some(y)) if ind.direction == Direction::Baisse => x.total_cmp(&y),
                    (Some(x), Some(y)) => y.total_cmp(&x),
                    _ => std::cmp::Ordering::Equal,
                })
                .then(a.territoire.nom.cmp(&b.territoire.nom))
        });
        let classes = classement.iter().filter(|r| published(r).is_some()).count();
        let values = |niveau: Niveau, code: &str| self.monthly(&ind.id, niveau, code);
        let provisional = |niveau: Niveau, code: &str| -> BTreeSet<NaiveDate> {
            self.series(&ind.id, niveau, code)
                .iter()
                .filter(|c| c.ventilation.is_empty() && c.provisoire)
                .map(|c| c.mois)
                .collect()
        };
        let mut series = vec![("France".to_string(), values(Niveau::National, "national"))];
        let mut provisoires = vec![provisional(Niveau::National, "national")];
        for w in Wave::ALL {
            series.push((w.label().to_string(), values(Niveau::Vague, w.code())));
            provisoires.push(provisional(Niveau::Vague, w.code()));
        }
        let last_complete = self.latest_complete(&ind.id);
        let provisoire_depuis = provisoires[0]
            .iter()
            .copied()
            .find(|m| last_complete.is_none_or(|c| *m > c));
        let avant_apres = Wave::ALL
            .iter()
            .map(|w| {
                let points = self
                    .series(&ind.id, Niveau::Vague, w.code())
                    .iter()
                    .filter(|c| c.ventilation == RELATIF)
                    .filter_map(|c| {
                        let k: i32 = c.modalite.parse().ok()?;
                        Some((k, if c.secret { None } else { c.valeur }))
                    })
                    .collect::<BTreeMap<i32, Option<f64>>>()
                    .into_iter()
                    .collect();
                (*w, points)
            })
            .collect();
        let ventilation = ventilation
            .filter(|v| ind.ventilations.iter().any(|x| x == v))
            .map(|v| {
                (
                    v.to_string(),
                    self.breakdown(&ind.id, Niveau::National, "national", mois, v),
                )
            });
        Some(IndicatorReport {
            indicateur: ind,
            mois_disponibles: disponibles,
            snapshot: self.snapshot(&ind.id, mois, register),
            classement,
            classes,
            series,
            avant_apres,
            ventilation,
            provisoire_depuis,
            provisoires,
        })
    }

    /// The sizes used for peers: each territory's published people in droits et devoirs at
    /// the latest mature month.
    pub fn sizes(&self, register: &Register) -> BTreeMap<String, f64> {
        let Some(mois) = self.latest_month(SIZE_INDICATOR, register) else {
            return BTreeMap::new();
        };
        register
            .iter()
            .filter_map(|t| {
                let c = self.total(SIZE_INDICATOR, Niveau::Territoire, &t.id, mois)?;
                Some((t.id.clone(), c.valeur.filter(|_| !c.secret)?))
            })
            .collect()
    }

    /// A territory's page: every indicator against the nation, its wave and its peers.
    pub fn territory<'a>(
        &'a self,
        catalogue: &'a Catalogue,
        register: &'a Register,
        territoire: &'a Territory,
    ) -> TerritoryReport<'a> {
        let peer_ids = comparison::peers(&self.sizes(register), &territoire.id, PEERS);
        let pairs: Vec<&Territory> = peer_ids.iter().filter_map(|id| register.get(id)).collect();
        let lignes = catalogue
            .iter()
            .filter_map(|ind| {
                let mois = self.latest_month(&ind.id, register)?;
                let totals = self.territory_totals(&ind.id, mois, register);
                let peer_cells: Vec<Cell> = totals
                    .iter()
                    .filter(|c| peer_ids.contains(&c.code))
                    .cloned()
                    .collect();
                Some(TerritoryRow {
                    indicateur: ind,
                    mois,
                    territoire: self.total(&ind.id, Niveau::Territoire, &territoire.id, mois),
                    national: self.total(&ind.id, Niveau::National, "national", mois),
                    vague: self.total(&ind.id, Niveau::Vague, territoire.vague.code(), mois),
                    pairs: comparison::spread(&peer_cells, mois, register, None),
                    rang: comparison::rank(&totals, mois, register, ind.direction, &territoire.id),
                    tendance: self.trend(&ind.id, Niveau::Territoire, &territoire.id, mois),
                })
            })
            .collect();
        let mut depots: Vec<&Depot> = self
            .depots
            .iter()
            .filter(|d| d.territoire == territoire.id)
            .collect();
        depots.reverse();
        TerritoryReport {
            territoire,
            pairs,
            lignes,
            depots,
        }
    }

    /// Every territory's data freshness on `today`.
    pub fn quality<'a>(&'a self, register: &'a Register, today: NaiveDate) -> Vec<QualityRow<'a>> {
        register
            .iter()
            .map(|t| {
                let own: Vec<&Depot> = self
                    .depots
                    .iter()
                    .filter(|d| d.territoire == t.id)
                    .collect();
                let last = own.iter().rposition(|d| d.integre());
                let dernier = last.map(|i| own[i]);
                QualityRow {
                    territoire: t,
                    dernier,
                    age_jours: dernier
                        .and_then(|d| d.date_extraction)
                        .map(|e| (today - e).num_days()),
                    refuses: own[last.map_or(0, |i| i + 1)..]
                        .iter()
                        .filter(|d| d.statut == "refuse")
                        .count(),
                    en_attente: own[last.map_or(0, |i| i + 1)..]
                        .iter()
                        .copied()
                        .filter(|d| d.statut == "en_attente")
                        .collect(),
                }
            })
            .collect()
    }

    /// The extraction dates of the data in place: the oldest and the newest.
    pub fn extraction_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let mut latest: BTreeMap<&str, NaiveDate> = BTreeMap::new();
        for d in self.depots.iter().filter(|d| d.integre()) {
            if let Some(e) = d.date_extraction {
                latest.insert(&d.territoire, e);
            }
        }
        let dates: BTreeSet<NaiveDate> = latest.values().copied().collect();
        Some((*dates.first()?, *dates.last()?))
    }
}
