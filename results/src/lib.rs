//! Where a run's results go: `store/<test-name>/<timestamp>/` with `test.json`,
//! `history.jsonl`, `results.json` and `nodes/<node>/…`, and `store/latest` pointing at the
//! newest run (as Jepsen does).

#![deny(missing_docs)]

pub mod history_writer;
pub mod store;

pub use history_writer::HistoryWriter;
pub use store::RunDir;
