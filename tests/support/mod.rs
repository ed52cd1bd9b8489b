//! What the tests of the real `copil` binary share: a site made by `copil init`, the binary
//! run against its configuration, generated drops, lines read as a run says them, and numbers
//! read back from its warehouse. Each test binary uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::mpsc;
use std::time::Duration;

use copil_warehouse::Warehouse;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;

/// The territories of the multi-territory sites.
pub const TERRITORIES: [&str; 3] = ["dep-04", "dep-05", "dep-15"];

/// The binary, without the `COPIL_` variables of the environment running the tests.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_copil"));
    without_copil_env(&mut cmd);
    cmd
}

/// Removes the `COPIL_` variables of the environment running the tests from `cmd`'s.
pub fn without_copil_env(cmd: &mut Command) {
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("COPIL_")) {
        cmd.env_remove(k);
    }
}

/// `copil --config CONFIG`.
pub fn copil(config: &Path) -> Command {
    let mut cmd = command();
    cmd.arg("--config").arg(config);
    cmd
}

/// What a run printed: its standard output, then its error output.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `copil init DIR`; returns the configuration it wrote.
pub fn init(dir: &Path) -> PathBuf {
    let o = command().arg("init").arg(dir).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    dir.join("copil.toml")
}

/// `copil generer` into the site's inbox: drops of `territories` (comma-separated) at
/// `scale`, extracted on `extraction` (`AAAA-MM-JJ`, data up to its month), with `more`
/// arguments.
pub fn generate(config: &Path, scale: &str, extraction: &str, territories: &str, more: &[&str]) {
    let o = copil(config)
        .args(["generate", "--echelle", scale, "--to", &extraction[..7]])
        .args([
            "--date-extraction",
            extraction,
            "--territories",
            territories,
        ])
        .args(more)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// Spawns with its error output read line by line on a thread.
pub fn spawn_lines(mut cmd: Command) -> (Child, mpsc::Receiver<String>) {
    let mut child = cmd.stderr(std::process::Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Reads lines until one says `wanted` (within `timeout` for each line), keeping them in `seen`.
pub fn wait_for(
    rx: &mpsc::Receiver<String>,
    wanted: &str,
    timeout: Duration,
    seen: &mut Vec<String>,
) {
    loop {
        let line = rx
            .recv_timeout(timeout)
            .unwrap_or_else(|_| panic!("never said « {wanted} »: {seen:?}"));
        let found = line.contains(wanted);
        seen.push(line);
        if found {
            return;
        }
    }
}

/// The first value of each query (a whole number, `None` when null) over every table of the
/// warehouse at its latest version, and those versions.
pub fn numbers(
    warehouse: &Path,
    queries: &[String],
) -> (Vec<Option<i64>>, BTreeMap<&'static str, u64>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let w = Warehouse::open(warehouse.to_str().unwrap()).await.unwrap();
        let ctx = SessionContext::new();
        let versions = w.register(&ctx).await.unwrap();
        let mut out = vec![];
        for sql in queries {
            let b = ctx.sql(sql).await.unwrap().collect().await.unwrap();
            let a = b[0].column(0).as_primitive::<Int64Type>();
            out.push((!a.is_null(0)).then(|| a.value(0)));
        }
        (out, versions)
    })
}

/// Rows of `table` in each of [`TERRITORIES`].
pub fn per_territory(table: &str) -> Vec<String> {
    TERRITORIES
        .iter()
        .map(|t| format!("SELECT count(*) FROM {table} WHERE territoire = '{t}'"))
        .collect()
}

/// Integrated `depots` rows beyond one per drop.
pub const DUPLICATED_DROPS: &str =
    "SELECT count(*) - count(DISTINCT depot) FROM depots WHERE statut = 'integre'";

/// The `evenements` version the indicators were built from.
pub const INDICATORS_BUILT_FROM: &str =
    "SELECT CAST(max(version_evenements) AS BIGINT) FROM indicateurs";
