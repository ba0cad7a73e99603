//! An ETL job: extract sales files, clean them in parallel (a Map with a concurrency limit and
//! a tolerated failure), analyse the merged data three ways at once (a Parallel state), and
//! load a report to disk.
//!
//! ```text
//! cargo run --example etl
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::render;

/// What the job works on.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    files: Vec<SourceFile>,
}

/// One exported file, as text.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SourceFile {
    name: String,
    csv: String,
}

/// One sale.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sale {
    date: String,
    store: String,
    region: String,
    cents: i64,
}

/// A parsed file: its sales and the lines that could not be read.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ParsedFile {
    name: String,
    sales: Vec<Sale>,
    bad_lines: Vec<usize>,
}

/// Every sale that survived, and what was dropped.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Dataset {
    sales: Vec<Sale>,
    dropped_files: Vec<String>,
    dropped_lines: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Totals(BTreeMap<String, i64>);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Outliers(Vec<Sale>);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Quality {
    sales: usize,
    dropped_files: Vec<String>,
    dropped_lines: usize,
}

/// Where the report went.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Loaded {
    path: PathBuf,
    regions: usize,
    outliers: usize,
}

#[derive(Debug, thiserror::Error, StepError)]
enum ExtractError {
    #[error("{file}: the header is `{found}`, expected `date,store,region,amount`")]
    BadHeader { file: String, found: String },
}

#[derive(Debug, thiserror::Error, StepError)]
enum LoadError {
    #[error("could not write the report: {0}")]
    Write(String),
}

/// Where reports are written.
struct ReportDirectory(PathBuf);

/// Reads a CSV file of sales; lines that do not parse are noted, not fatal.
#[step]
async fn parse_file(file: SourceFile) -> Result<ParsedFile, ExtractError> {
    let mut lines = file.csv.lines();
    let header = lines.next().unwrap_or_default().trim();
    if header != "date,store,region,amount" {
        return Err(ExtractError::BadHeader {
            file: file.name,
            found: header.to_owned(),
        });
    }
    let mut sales = Vec::new();
    let mut bad_lines = Vec::new();
    for (number, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed = match fields[..] {
            [date, store, region, amount] => amount.parse::<f64>().ok().map(|amount| Sale {
                date: date.to_owned(),
                store: store.to_owned(),
                region: region.to_owned(),
                cents: (amount * 100.0).round() as i64,
            }),
            _ => None,
        };
        match parsed {
            Some(sale) => sales.push(sale),
            None => bad_lines.push(number + 2),
        }
    }
    Ok(ParsedFile {
        name: file.name,
        sales,
        bad_lines,
    })
}

/// Normalises store and region names.
#[step]
async fn normalise(mut file: ParsedFile) -> ParsedFile {
    for sale in &mut file.sales {
        sale.store = sale.store.to_uppercase();
        sale.region = sale.region.to_lowercase();
    }
    file
}

/// Merges the files that could be read; notes those that could not.
#[step]
async fn merge(files: Vec<Result<ParsedFile, Caught<SourceFile>>>) -> Dataset {
    let mut dataset = Dataset {
        sales: Vec::new(),
        dropped_files: Vec::new(),
        dropped_lines: 0,
    };
    for file in files {
        match file {
            Ok(file) => {
                dataset.dropped_lines += file.bad_lines.len();
                dataset.sales.extend(file.sales);
            }
            Err(failed) => dataset
                .dropped_files
                .push(format!("{} ({})", failed.input.name, failed.cause)),
        }
    }
    dataset
}

/// Sums sales per region.
#[step]
async fn totals_by_region(data: Dataset) -> Totals {
    let mut totals = BTreeMap::new();
    for sale in data.sales {
        *totals.entry(sale.region).or_insert(0) += sale.cents;
    }
    Totals(totals)
}

/// Flags sales over three times the average.
#[step]
async fn find_outliers(data: Dataset) -> Outliers {
    let count = data.sales.len().max(1) as i64;
    let average = data.sales.iter().map(|sale| sale.cents).sum::<i64>() / count;
    Outliers(
        data.sales
            .into_iter()
            .filter(|sale| sale.cents > 3 * average)
            .collect(),
    )
}

/// Reports what was kept and dropped.
#[step]
async fn assess_quality(data: Dataset) -> Quality {
    Quality {
        sales: data.sales.len(),
        dropped_files: data.dropped_files,
        dropped_lines: data.dropped_lines,
    }
}

/// Writes the report as JSON.
#[step]
async fn write_report(
    analysis: (Totals, Outliers, Quality),
    directory: Res<ReportDirectory>,
) -> Result<Loaded, LoadError> {
    let (totals, outliers, quality) = analysis;
    let report =
        serde_json::json!({ "totals_cents": totals.0, "outliers": outliers.0, "quality": quality });
    let path = directory.0.join("sales-report.json");
    let text = serde_json::to_string_pretty(&report)
        .map_err(|error| LoadError::Write(error.to_string()))?;
    tokio::fs::create_dir_all(&directory.0)
        .await
        .map_err(|error| LoadError::Write(error.to_string()))?;
    tokio::fs::write(&path, text)
        .await
        .map_err(|error| LoadError::Write(error.to_string()))?;
    Ok(Loaded {
        path,
        regions: totals.0.len(),
        outliers: outliers.0.len(),
    })
}

workflow! {
    /// Extracts, cleans, analyses and loads a day of sales.
    SalesEtl: Standard<Job, Loaded> {
        start Extract;

        /// Each file on its own, two at a time; one unreadable file is tolerated.
        Extract: map |job: &Job| job.files.clone() {
            start Parse;
            Parse: task parse_file -> Normalise;
            Normalise: task normalise -> end;
        } -> Merge, max_concurrency 2, tolerate 1;

        Merge: task merge -> Analyse;

        /// Three independent analyses of the same data.
        Analyse: parallel {
            branch {
                start Totals;
                Totals: task totals_by_region -> end;
            }
            branch {
                start Outliers;
                Outliers: task find_outliers -> end;
            }
            branch {
                start Quality;
                Quality: task assess_quality -> end;
            }
        } -> Load;

        Load: task write_report -> end,
            retry LoadError::Write { max_attempts: 2, interval: 100ms };
    }
}

fn job() -> Job {
    let file = |name: &str, csv: &str| SourceFile {
        name: name.to_owned(),
        csv: csv.to_owned(),
    };
    Job {
        files: vec![
            file(
                "north.csv",
                "date,store,region,amount\n2026-11-23,s1,North,12.50\n2026-11-23,s2,North,8.00\n2026-11-23,s2,North,95.00",
            ),
            file(
                "south.csv",
                "date,store,region,amount\n2026-11-23,s7,South,20.00\n2026-11-23,s8,South,not-a-number\n2026-11-23,s8,South,11.25",
            ),
            file("east.csv", "day;shop;zone;total\n2026-11-23;s4;East;10.00"),
            file("west.csv", "date,store,region,amount\n2026-11-23,s9,West,14.75"),
        ],
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `--diagram mermaid|dot|svg|asl` prints the workflow's picture instead of running it.
    if render::print_if_requested(SalesEtl::definition())? {
        return Ok(());
    }
    let directory = std::env::temp_dir().join("workflow-etl");
    let runtime = Runtime::builder()
        .resource(ReportDirectory(directory))
        .register::<SalesEtl>()
        .build()?;
    let execution = runtime.execute::<SalesEtl>(job()).await?;
    match execution.result() {
        Ok(loaded) => println!(
            "loaded {} regions and {} outliers into {}",
            loaded.regions,
            loaded.outliers,
            loaded.path.display()
        ),
        Err(failure) => println!("failed: {failure}"),
    }
    println!("\n{}", execution.history().table());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use workflow::testing::{Harness, Mock, Script};

    fn loaded() -> Loaded {
        Loaded {
            path: PathBuf::from("report.json"),
            regions: 3,
            outliers: 1,
        }
    }

    #[workflow::test]
    async fn the_day_is_loaded_with_the_unreadable_file_left_out() {
        // Only the write is mocked: parsing, merging and the analyses are the real steps.
        let report =
            Mock::<write_report>::returning(|(totals, _, quality): (Totals, Outliers, Quality)| {
                assert_eq!(quality.dropped_files.len(), 1);
                assert!(quality.dropped_files[0].starts_with("east.csv"));
                Ok(Loaded {
                    path: PathBuf::from("report.json"),
                    regions: totals.0.len(),
                    outliers: 0,
                })
            });
        let harness = Harness::builder()
            .mock(report.clone())
            .register::<SalesEtl>()
            .build()
            .expect("builds");

        let run = harness.run::<SalesEtl>(job()).await;

        run.expect()
            .succeeded()
            .path(["Extract", "Merge", "Analyse", "Load"])
            .path_in("Extract[0]", ["Parse", "Normalise"])
            .path_in("Extract[2]", ["Parse"])
            .path_in("Analyse/1", ["Outliers"])
            .attempts("Parse", 4);
        assert_eq!(run.output().map(|loaded| loaded.regions), Some(3));
        assert_eq!(report.calls(), 1);
    }

    #[workflow::test]
    async fn a_failed_write_is_retried_once() {
        let harness = Harness::builder()
            .mock(
                Script::<write_report>::new()
                    .err(LoadError::Write("disk full".to_owned()))
                    .ok(loaded()),
            )
            .register::<SalesEtl>()
            .build()
            .expect("builds");

        let run = harness.run::<SalesEtl>(job()).await;

        run.expect().succeeded().attempts("Load", 2);
        // The retry waits its 100 ms interval, on virtual time.
        assert_eq!(run.elapsed(), std::time::Duration::from_millis(100));
    }

    #[workflow::test]
    async fn two_unreadable_files_are_more_than_the_map_tolerates() {
        let harness = Harness::builder()
            .mock(Script::<write_report>::new())
            .register::<SalesEtl>()
            .build()
            .expect("builds");
        let mut job = job();
        job.files[0].csv = "nonsense".to_owned();

        let run = harness.run::<SalesEtl>(job).await;

        run.expect()
            .failed_with("States.ExceedToleratedFailureThreshold")
            .path(["Extract"])
            .not_entered("Load");
    }

    #[test]
    fn the_diagrams_are_as_reviewed() {
        // Its pictures, as reviewed (`UPDATE_GOLDEN=1` rewrites them after a change).
        let reviewed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
        workflow::testing::assert_diagrams(SalesEtl::definition(), reviewed);
    }
}
