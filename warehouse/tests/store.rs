//! The warehouse's Delta tables: atomic replacement of one territory, versions, and reads
//! through fresh DataFusion providers (issue #3).

use std::collections::HashMap;
use std::sync::Arc;

use copil_warehouse::{EVENEMENTS, Warehouse};
use datafusion::arrow::array::{Array, ArrayRef, Date32Array, Int64Array, StringArray};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;

/// A batch of `n` events of one person (file schema: no `territoire`).
fn events(person: &str, n: usize) -> RecordBatch {
    let schema = EVENEMENTS.file_schema();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| -> ArrayRef {
            match f.name().as_str() {
                "personne" => Arc::new(StringArray::from(vec![person; n])),
                "date" => Arc::new(Date32Array::from(
                    (0..n as i32).map(|i| 19_000 + i).collect::<Vec<_>>(),
                )),
                "evenement" => Arc::new(StringArray::from(vec!["rdv"; n])),
                "ligne" => Arc::new(Int64Array::from((2..n as i64 + 2).collect::<Vec<_>>())),
                _ => Arc::new(StringArray::from(vec![None::<&str>; n])),
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).unwrap()
}

async fn count(ctx: &SessionContext, territoire: &str) -> i64 {
    let df = ctx
        .sql("SELECT count(*) AS n FROM evenements WHERE territoire = $1")
        .await
        .unwrap()
        .with_param_values(vec![datafusion::scalar::ScalarValue::from(territoire)])
        .unwrap();
    let batches = df.collect().await.unwrap();
    batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .value(0)
}

async fn land(w: &Warehouse, territoire: &str, person: &str, n: usize) -> u64 {
    let mut writer = w.part_writer(&EVENEMENTS, Some(territoire)).unwrap();
    writer.write(&events(person, n)).unwrap();
    let staged = writer.finish().unwrap().into_iter().collect();
    let guard = w.lock().await.unwrap();
    w.commit(
        &guard,
        &EVENEMENTS,
        Some(territoire),
        staged,
        HashMap::new(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_territory_is_replaced_in_one_commit_and_older_versions_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let w = Warehouse::open(dir.path().join("entrepot").to_str().unwrap())
        .await
        .unwrap();
    let v0 = w.versions().await.unwrap()["evenements"];
    let v1 = land(&w, "dep-44", "a", 3).await;
    let v2 = land(&w, "dep-59", "b", 5).await;
    let v3 = land(&w, "dep-44", "c", 2).await;
    assert_eq!(
        (v1, v2, v3),
        (v0 + 1, v0 + 2, v0 + 3),
        "one commit per replacement"
    );

    let ctx = SessionContext::new();
    let versions = w.register(&ctx).await.unwrap();
    assert_eq!(versions["evenements"], v3);
    assert_eq!(
        count(&ctx, "dep-44").await,
        2,
        "the new rows replaced the old ones"
    );
    assert_eq!(
        count(&ctx, "dep-59").await,
        5,
        "the other territory is untouched"
    );

    // Time travel: the version before the replacement still holds the old rows.
    let old = w.load_version(&EVENEMENTS, v2).await.unwrap();
    let ctx_old = SessionContext::new();
    w.register_table(&ctx_old, &EVENEMENTS, &old).await.unwrap();
    assert_eq!(count(&ctx_old, "dep-44").await, 3);

    // A territory whose new drop has no valid row ends up empty, in one commit too.
    let guard = w.lock().await.unwrap();
    let v4 = w
        .commit(&guard, &EVENEMENTS, Some("dep-44"), vec![], HashMap::new())
        .await
        .unwrap();
    drop(guard);
    assert_eq!(v4, v3 + 1);
    w.register(&ctx).await.unwrap();
    assert_eq!(count(&ctx, "dep-44").await, 0);
    assert_eq!(count(&ctx, "dep-59").await, 5);
}

#[tokio::test]
async fn reopening_keeps_the_tables_and_unsupported_locations_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let loc = dir.path().join("e");
    let w = Warehouse::open(loc.to_str().unwrap()).await.unwrap();
    land(&w, "dep-01", "x", 4).await;
    let again = Warehouse::open(&format!("file://{}", loc.display()))
        .await
        .unwrap();
    let ctx = SessionContext::new();
    again.register(&ctx).await.unwrap();
    assert_eq!(count(&ctx, "dep-01").await, 4);
    let e = Warehouse::open("s3://seau/entrepot")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("entrepôt s3://seau/entrepot : seul le système de fichiers local"),
        "{e}"
    );

    // Another Parquet reader opens the data files as they are.
    let mut files = vec![];
    for entry in std::fs::read_dir(loc.join("evenements/territoire=dep-01")).unwrap() {
        files.push(entry.unwrap().path());
    }
    assert_eq!(files.len(), 1);
    let reader =
        datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(&files[0]).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 4);
}
