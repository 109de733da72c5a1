//! The models, and how the command line names them. Adding a model: a new file here with one
//! `impl Model`, and one line in each `match` below.

mod counter;
mod fifo;
mod kv;
mod multi_register;
mod mutex;
mod register;
mod set;

use std::collections::BTreeSet;
use std::str::FromStr;

pub use counter::{Counter, CounterOp};
pub use fifo::{Fifo, FifoOp};
pub use kv::{Kv, KvOp};
pub use multi_register::{Micro, MultiRegister};
pub use mutex::{Mutex, MutexOp};
pub use register::{Register, RegisterOp};
pub use set::{Set, SetOp};

use crate::checker::CheckOptions;
use crate::linearizable::{check_linearizable, LinearizabilityResult};
use crate::model::Scalar;
use serde::{Deserialize, Serialize};

/// What an `ok` read of nil means for the register-like models (register, cas-register,
/// multi-register).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NilRead {
    /// The register held nil (faultline's own histories: a read of a key never written).
    #[default]
    Value,
    /// Nothing is known about what the read saw: it constrains nothing (Knossos's semantics,
    /// which Jepsen clients rely on when a read's result is unknown).
    Unknown,
}

impl NilRead {
    /// `value` or `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            NilRead::Value => "value",
            NilRead::Unknown => "unknown",
        }
    }
}

/// How a model is set up for one check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelOptions {
    /// The initial value of register-like models and the counter (nil, or 0 for the counter,
    /// when `None`).
    pub init: Option<Scalar>,
    /// What an `ok` read of nil means for register-like models.
    pub nil_read: NilRead,
}
use history::{History, HistoryError};

/// A model by name, as chosen with `--model`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    /// read / write
    Register,
    /// read / write / cas
    CasRegister,
    /// get / put / append of strings, per key
    Kv,
    /// txn of reads and writes over several registers
    MultiRegister,
    /// acquire / release
    Mutex,
    /// add / read
    Counter,
    /// add / read of the whole set
    Set,
    /// enqueue / dequeue
    Fifo,
}

impl ModelName {
    /// Every model with its name and the `f`s it knows.
    pub const ALL: [(&'static str, ModelName, &'static [&'static str]); 8] = [
        ("register", ModelName::Register, &["read", "write"]),
        ("cas-register", ModelName::CasRegister, &["read", "write", "cas"]),
        ("kv", ModelName::Kv, &["get", "put", "append"]),
        ("multi-register", ModelName::MultiRegister, &["txn"]),
        ("mutex", ModelName::Mutex, &["acquire", "release"]),
        ("counter", ModelName::Counter, &["add", "read"]),
        ("set", ModelName::Set, &["add", "read"]),
        ("fifo", ModelName::Fifo, &["enqueue", "dequeue"]),
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        ModelName::ALL.iter().find(|(_, m, _)| *m == self).map(|(n, _, _)| *n).unwrap_or("?")
    }

    /// Whether `--init` means something for this model.
    pub fn takes_init(self) -> bool {
        matches!(self, ModelName::Register | ModelName::CasRegister | ModelName::MultiRegister | ModelName::Counter)
    }

    /// Guesses the model from the `f`s a history uses: the one model that knows them all, with
    /// ties broken towards the simpler register. `None` if no model or several unrelated ones fit.
    pub fn infer(history: &History) -> Option<ModelName> {
        let fs: BTreeSet<&str> = history.ops.iter().filter(|o| o.is_client()).map(|o| o.f.as_str()).collect();
        let fitting: Vec<ModelName> =
            ModelName::ALL.iter().filter(|(_, _, known)| fs.iter().all(|f| known.contains(f))).map(|(_, m, _)| *m).collect();
        match fitting.as_slice() {
            [one] => Some(*one),
            [ModelName::Register, ModelName::CasRegister, ..] => Some(ModelName::CasRegister),
            _ => None,
        }
    }

    /// Whether `--nil-read` means something for this model.
    pub fn reads_nil(self) -> bool {
        matches!(self, ModelName::Register | ModelName::CasRegister | ModelName::MultiRegister)
    }

    /// Checks `history` for linearizability against this model.
    pub fn check(self, model: &ModelOptions, history: &History, options: &CheckOptions) -> Result<LinearizabilityResult, HistoryError> {
        let name = self.name();
        let init = model.init.clone();
        let init_scalar = init.clone().unwrap_or(Scalar::Nil);
        let nil = model.nil_read;
        let mut result = match self {
            ModelName::Register => check_linearizable(&Register::plain(init_scalar).with_nil_read(nil), name, history, options),
            ModelName::CasRegister => check_linearizable(&Register::cas(init_scalar).with_nil_read(nil), name, history, options),
            ModelName::Kv => check_linearizable(&Kv, name, history, options),
            ModelName::MultiRegister => check_linearizable(&MultiRegister::new(init_scalar).with_nil_read(nil), name, history, options),
            ModelName::Mutex => check_linearizable(&Mutex, name, history, options),
            ModelName::Counter => {
                let start = match init {
                    Some(Scalar::Int(i)) => i,
                    _ => 0,
                };
                check_linearizable(&Counter::new(start), name, history, options)
            }
            ModelName::Set => check_linearizable(&Set, name, history, options),
            ModelName::Fifo => check_linearizable(&Fifo, name, history, options),
        }?;
        if self.reads_nil() {
            result.nil_read = Some(nil);
        }
        Ok(result)
    }
}

impl FromStr for ModelName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ModelName::ALL.iter().find(|(n, _, _)| *n == s).map(|(_, m, _)| *m).ok_or_else(|| {
            let names: Vec<_> = ModelName::ALL.iter().map(|(n, _, _)| *n).collect();
            format!("unknown model `{s}`; expected one of {}", names.join(", "))
        })
    }
}
