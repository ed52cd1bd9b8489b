//! Issue 16: the stock indicators computed as intervals (a running sum of +1 at the start and -1
//! at the end of each interval, per breakdown value) give exactly the territory rows of their
//! expanding formulation (one row per person and month, kept in `tests/reference/`), here on
//! random pathways drawn to hit the edges: several episodes, episodes never closed under the
//! next one, rights closed the month of entry or before it, orientations on the same day or
//! the same month, seniority thresholds at month ends, contracts before and after 2025, two
//! exits in a month. The fixtures (`fixture.rs`, `pathways.rs`, `edges.rs`) and a generated
//! warehouse (`generated.rs`) run the same comparison.

mod common;

use chrono::{Days, NaiveDate};
use common::{Ev, ev};

/// A small deterministic generator (64-bit LCG), so a failure can be replayed.
struct Draw(u64);

impl Draw {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }

    fn one<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn day(d: NaiveDate) -> &'static str {
    leak(d.format("%Y-%m-%d").to_string())
}

/// Random pathways for `people` people over three territories.
fn pathways(seed: u64, people: usize) -> Vec<Ev> {
    let mut r = Draw(seed);
    let start = NaiveDate::from_ymd_opt(2022, 6, 1).unwrap();
    let mut out = Vec::new();
    let organismes: &[&[(&str, &str)]] = &[
        &[("organisme", "france_travail"), ("orientation", "pro")],
        &[
            ("organisme", "france_travail"),
            ("orientation", "socio_pro"),
        ],
        &[
            ("organisme", "conseil_departemental"),
            ("orientation", "social"),
        ],
        &[
            ("organisme", "conseil_departemental"),
            ("orientation", "socio_pro"),
        ],
        &[("orientation", "social")],
        &[("organisme", "conseil_departemental")],
        &[],
    ];
    let contrats: &[&[(&str, &str)]] = &[
        &[("type_contrat", "cer")],
        &[("type_contrat", "contrat_engagement")],
        &[("type_contrat", "ppae")],
    ];
    let sorties: &[&[(&str, &str)]] = &[
        &[("type_sortie", "emploi_durable")],
        &[("type_sortie", "emploi_transition")],
        &[("type_sortie", "autre")],
    ];
    for p in 0..people {
        let t = r.one(&["dep-44", "dep-03", "dep-13"]);
        let who = leak(format!("p{p}"));
        // Month ends are frequent, to hit the seniority thresholds (31 August + 6 months).
        let mut at = start + Days::new(r.below(900));
        if r.below(3) == 0 {
            at = NaiveDate::from_ymd_opt(
                at.format("%Y").to_string().parse().unwrap(),
                at.format("%m").to_string().parse().unwrap(),
                1,
            )
            .unwrap()
                + chrono::Months::new(1)
                - Days::new(1);
        }
        for _ in 0..1 + r.below(3) {
            out.push(ev(t, who, day(at), "droit_ouvert", &[]));
            if r.below(5) > 0 {
                let entry = at + Days::new(r.one(&[0, 0, 3, 20, 45]));
                out.push(ev(t, who, day(entry), "entree_droits_devoirs", &[]));
                if r.below(2) == 0 {
                    let closed = entry + Days::new(r.one(&[0, 1, 10, 40, 200, 400]));
                    out.push(ev(t, who, day(closed), "droit_clos", &[]));
                }
            } else if r.below(2) == 0 {
                out.push(ev(t, who, day(at + Days::new(30)), "droit_clos", &[]));
            }
            at = at + Days::new(r.one(&[5, 30, 200, 400]));
        }
        let mut when = start + Days::new(r.below(1000));
        for _ in 0..r.below(4) {
            let kind = r.one(&["orientation", "orientation", "reorientation"]);
            out.push(ev(t, who, day(when), kind, r.one(organismes)));
            when = when + Days::new(r.one(&[0, 0, 3, 40, 300]));
        }
        for _ in 0..r.below(3) {
            let signed = start + Days::new(r.below(1000));
            out.push(ev(t, who, day(signed), "contrat_signe", r.one(contrats)));
        }
        for _ in 0..r.below(3) {
            let left = start + Days::new(r.below(1000));
            out.push(ev(t, who, day(left), "sortie", r.one(sorties)));
        }
    }
    out
}

const DROPS: &[(&str, &str, &str)] = &[
    ("dep-44", "2025-03-31", "integre"),
    ("dep-03", "2024-12-30", "integre"),
    ("dep-13", "2025-02-28", "integre"),
    ("dep-13", "2025-06-30", "refuse"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_stocks_as_intervals_match_the_expansion_on_random_pathways() {
    for seed in [1, 2, 3] {
        let events = pathways(seed, 400);
        let compared =
            common::assert_stocks_match_expansion(&common::context(&events, DROPS)).await;
        assert!(compared > 1000, "seed {seed}: {compared} rows");
    }
}
