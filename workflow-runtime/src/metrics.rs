//! The runtime's metrics, through the [`metrics`](https://docs.rs/metrics) facade, with the
//! `metrics` feature: whichever recorder the application installs (Prometheus, OpenTelemetry,
//! StatsD...) receives them. Without the feature, nothing here is compiled and nothing is
//! measured (each function is empty): a state's duration costs a clock reading per state.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `workflow_executions_started_total` | counter | `workflow`, `mode` |
//! | `workflow_executions_ended_total` | counter | `workflow`, `mode`, `status` |
//! | `workflow_state_duration_seconds` | histogram | `workflow`, `state`, `kind` |
//! | `workflow_task_retries_total` | counter | `workflow`, `state`, `error` |
//! | `workflow_store_commit_queue_depth` | gauge | `store` |
//! | `workflow_store_commit_batch_size` | histogram | `store` |
//!
//! Names follow Prometheus's conventions (`_total`, `_seconds`), which OpenTelemetry's
//! exporters map. Labels take values from the workflow's definition, never from payloads,
//! so that their number stays bounded. A resumed execution is counted as started once, when
//! it first started; a state replayed on resumption is not timed again.

#[cfg(feature = "metrics")]
mod measured {
    use std::time::Duration;

    use workflow_core::Mode;

    pub(crate) fn execution_started(workflow: &'static str, mode: Mode) {
        metrics::counter!(
            "workflow_executions_started_total",
            "workflow" => workflow,
            "mode" => mode.name(),
        )
        .increment(1);
    }

    pub(crate) fn execution_ended(workflow: &'static str, mode: Mode, status: &'static str) {
        metrics::counter!(
            "workflow_executions_ended_total",
            "workflow" => workflow,
            "mode" => mode.name(),
            "status" => status,
        )
        .increment(1);
    }

    pub(crate) fn state_ran(
        workflow: &'static str,
        state: &'static str,
        kind: &'static str,
        took: Duration,
    ) {
        metrics::histogram!(
            "workflow_state_duration_seconds",
            "workflow" => workflow,
            "state" => state,
            "kind" => kind,
        )
        .record(took.as_secs_f64());
    }

    pub(crate) fn retried(workflow: &'static str, state: &'static str, error: &str) {
        metrics::counter!(
            "workflow_task_retries_total",
            "workflow" => workflow,
            "state" => state,
            "error" => error.to_owned(),
        )
        .increment(1);
    }

    // Only the SQL stores have a commit queue.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn commit_queue(store: &'static str, depth: usize, batch: usize) {
        #[allow(clippy::cast_precision_loss)] // Counts far below 2^52.
        let (depth, batch) = (depth as f64, batch as f64);
        metrics::gauge!("workflow_store_commit_queue_depth", "store" => store).set(depth);
        metrics::histogram!("workflow_store_commit_batch_size", "store" => store).record(batch);
    }
}

#[cfg(not(feature = "metrics"))]
mod measured {
    use workflow_core::Mode;

    #[inline]
    pub(crate) fn execution_started(_: &'static str, _: Mode) {}

    #[inline]
    pub(crate) fn execution_ended(_: &'static str, _: Mode, _: &'static str) {}

    #[inline]
    pub(crate) fn retried(_: &'static str, _: &'static str, _: &str) {}

    #[inline]
    // Only the SQL stores have a commit queue.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn commit_queue(_: &'static str, _: usize, _: usize) {}
}

pub(crate) use measured::*;
