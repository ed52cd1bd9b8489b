//! Running a job on a cron schedule (tokio-cron-scheduler). The job is a plain async function,
//! so tests call it directly; only the timing lives here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::{Error, Result};

/// Checks a cron expression (six fields, seconds first) without scheduling anything.
pub fn check(expression: &str) -> Result<()> {
    Job::new_async(expression, |_, _| Box::pin(async {}))
        .map(|_| ())
        .map_err(|e| Error::Schedule {
            expression: expression.to_string(),
            message: e.to_string(),
        })
}

/// Starts a scheduler that runs `job` at every tick of `expression` (UTC). Runs never overlap:
/// a tick that comes while the previous run is still going is skipped.
pub async fn start<F, Fut>(expression: &str, job: F) -> Result<JobScheduler>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let err = |e: tokio_cron_scheduler::JobSchedulerError| Error::Schedule {
        expression: expression.to_string(),
        message: e.to_string(),
    };
    let job = Arc::new(job);
    let running = Arc::new(tokio::sync::Mutex::new(()));
    let scheduled = Job::new_async(expression, move |_, _| {
        let job = Arc::clone(&job);
        let running = Arc::clone(&running);
        Box::pin(async move {
            let Ok(_guard) = running.try_lock() else {
                tracing::warn!("tâche planifiée encore en cours : ce déclenchement est sauté");
                return;
            };
            job().await;
        }) as Pin<Box<dyn Future<Output = ()> + Send>>
    })
    .map_err(err)?;
    let scheduler = JobScheduler::new().await.map_err(err)?;
    scheduler.add(scheduled).await.map_err(err)?;
    scheduler.start().await.map_err(err)?;
    Ok(scheduler)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn expressions_are_checked() {
        assert!(check("0 */15 * * * *").is_ok());
        let e = check("toutes les 15 minutes").unwrap_err().to_string();
        assert!(
            e.starts_with("planification « toutes les 15 minutes » :"),
            "{e}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_job_runs_on_its_ticks() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&runs);
        let mut scheduler = start("* * * * * *", move || {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        })
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        scheduler.shutdown().await.unwrap();
        assert!(runs.load(Ordering::SeqCst) >= 1, "ran every second");
    }
}
