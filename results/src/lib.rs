//! What a run leaves: `store/<test-name>/<timestamp>/` with `test.json` ([`TestRecord`]),
//! `history.jsonl` ([`HistoryFile`]), `results.json` ([`RunRecord`]) and `nodes/<node>/…`,
//! and `store/latest` pointing at the newest run (as Jepsen does). Records are serde types,
//! written by the runner and read back as the same types.

#![deny(missing_docs)]

pub mod campaign;
pub mod history_file;
pub mod records;
pub mod store;

pub use campaign::{CampaignRecord, CampaignTest, SkippedTest};
pub use history_file::HistoryFile;
pub use records::{ClusterRecord, ConfigView, FaultsRecord, NodeRecord, OpCounts, RunRecord, TestRecord};
pub use store::{new_dir, now_rfc3339, unique_dir, validate_name, RunDir};

/// Reads a JSON record from `path` as `T`; the error names the file and what is wrong.
pub fn read_record<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T, RecordError> {
    let text = std::fs::read_to_string(path).map_err(|source| RecordError::Io { path: path.display().to_string(), source })?;
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| RecordError::Format {
        path: path.display().to_string(),
        field: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// A record that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not the record it should be.
    #[error("{path}: field `{field}`: {message}")]
    Format {
        /// The file.
        path: String,
        /// Where in it.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl RecordError {
    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, RecordError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}
