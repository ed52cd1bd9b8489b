//! What every handler shares: the reference data, the settings and the materialised results
//! of the current warehouse version, swapped in when a new version lands.

use std::sync::{Arc, RwLock};

use copil_queries::{Catalogue, Results};
use copil_warehouse::{Clock, DEPOTS, Departments, INDICATEURS, Register, Warehouse};

/// The dashboard's settings (from the configuration).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Statistical secrecy threshold (shown on every page; the cells are already under it).
    pub threshold: i64,
}

struct Inner {
    warehouse: Warehouse,
    catalogue: Catalogue,
    register: Register,
    departments: Departments,
    settings: Settings,
    clock: Arc<dyn Clock>,
    results: RwLock<Arc<Results>>,
}

/// The application state, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Loads the current results of `warehouse`.
    pub async fn new(
        warehouse: Warehouse,
        register: Register,
        departments: Departments,
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> copil_queries::Result<AppState> {
        let results = Results::load(&warehouse).await?;
        Ok(AppState(Arc::new(Inner {
            warehouse,
            catalogue: Catalogue::builtin(),
            register,
            departments,
            settings,
            clock,
            results: RwLock::new(Arc::new(results)),
        })))
    }

    /// Reloads the results when `indicateurs` or `depots` has a new version; returns whether
    /// it did. Cheap when nothing changed (two log checks).
    pub async fn reload(&self) -> copil_queries::Result<bool> {
        let current = self.results();
        let i = self.0.warehouse.load(&INDICATEURS).await?;
        let d = self.0.warehouse.load(&DEPOTS).await?;
        let (vi, vd) = (
            i.version().unwrap_or(0) as u64,
            d.version().unwrap_or(0) as u64,
        );
        if vi == current.version && vd == current.version_depots {
            return Ok(false);
        }
        let fresh = Results::load(&self.0.warehouse).await?;
        tracing::info!(
            indicateurs = fresh.version,
            depots = fresh.version_depots,
            cases = fresh.len(),
            "résultats rechargés"
        );
        *self.0.results.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        Ok(true)
    }

    /// The results in force (a snapshot: a reload does not change it under a request).
    pub fn results(&self) -> Arc<Results> {
        self.0
            .results
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The indicator catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.0.catalogue
    }

    /// The territory register.
    pub fn register(&self) -> &Register {
        &self.0.register
    }

    /// The départements.
    pub fn departments(&self) -> &Departments {
        &self.0.departments
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.0.clock.as_ref()
    }
}
