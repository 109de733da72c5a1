//! A read/write register, optionally with compare-and-set (Knossos's `register` and
//! `cas-register`). Values are scalars; the initial value is nil unless told. What an `ok`
//! read of nil means is a choice ([`NilRead`]): Knossos treats it as "we don't know what the
//! read saw", faultline's own histories as "the register held nil".

use serde_json::Value;

use crate::model::{result_value, Model, ModelError, Scalar};
use crate::models::NilRead;
use history::Op;

/// A single register. `cas` is accepted only by the cas-register.
#[derive(Clone, Debug)]
pub struct Register {
    init: Scalar,
    with_cas: bool,
    nil_read: NilRead,
}

impl Register {
    /// A read/write register.
    pub fn plain(init: Scalar) -> Self {
        Register { init, with_cas: false, nil_read: NilRead::Value }
    }

    /// A read/write/compare-and-set register.
    pub fn cas(init: Scalar) -> Self {
        Register { init, with_cas: true, nil_read: NilRead::Value }
    }

    /// The same register, reading `ok` reads of nil as `nil_read` says.
    pub fn with_nil_read(self, nil_read: NilRead) -> Self {
        Register { nil_read, ..self }
    }
}

/// A register op. A read's value is `None` when its result is unknown.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOp {
    /// `read`, with the value it returned.
    Read(Option<Scalar>),
    /// `write v`.
    Write(Scalar),
    /// `cas [from to]` that succeeded (failed ones never reach the model).
    Cas(Scalar, Scalar),
}

impl Model for Register {
    type Op = RegisterOp;
    type State = Scalar;

    fn init(&self) -> Scalar {
        self.init.clone()
    }

    fn parse(&self, invoke: &Op, completion: Option<&Op>) -> Result<RegisterOp, ModelError> {
        match invoke.f.as_str() {
            "read" => {
                let seen = result_value(completion).map(|v| Scalar::from_json(v, "value", "a read's result")).transpose()?;
                Ok(RegisterOp::Read(seen.filter(|v| !(*v == Scalar::Nil && self.nil_read == NilRead::Unknown))))
            }
            "write" => Ok(RegisterOp::Write(Scalar::from_json(&invoke.value, "value", "a write's argument")?)),
            "cas" if self.with_cas => match &invoke.value {
                Value::Array(pair) if pair.len() == 2 => Ok(RegisterOp::Cas(
                    Scalar::from_json(&pair[0], "value", "cas `from`")?,
                    Scalar::from_json(&pair[1], "value", "cas `to`")?,
                )),
                other => Err(ModelError::new("value", format!("a cas needs [from, to], found {other}"))),
            },
            "cas" => {
                Err(ModelError::new("f", "model `register` has no operation `cas`; the cas-register model has (--model cas-register)"))
            }
            f if self.with_cas => Err(ModelError::unknown_f("cas-register", f, &["read", "write", "cas"])),
            f => Err(ModelError::unknown_f("register", f, &["read", "write"])),
        }
    }

    fn step(&self, state: &Scalar, op: &RegisterOp) -> Option<Scalar> {
        match op {
            RegisterOp::Read(None) => Some(state.clone()),
            RegisterOp::Read(Some(v)) => (v == state).then(|| state.clone()),
            RegisterOp::Write(v) => Some(v.clone()),
            RegisterOp::Cas(from, to) => (from == state).then(|| to.clone()),
        }
    }

    const LOOKS_AHEAD: bool = true;

    /// A read of `v` needs the register to hold `v` now, or an available write or cas to put it
    /// there.
    fn may_reach(&self, state: &Scalar, target: &RegisterOp, available: &[&RegisterOp]) -> bool {
        let RegisterOp::Read(Some(v)) = target else { return true };
        v == state
            || available.iter().any(|op| match op {
                RegisterOp::Write(w) | RegisterOp::Cas(_, w) => w == v,
                RegisterOp::Read(_) => false,
            })
    }

    fn is_unconstrained(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Read(None))
    }

    /// A write or cas overwrites the whole value: placed and not observed at once, the next op
    /// is one that ignores the value (a write; a read of another value or a cas from another
    /// value would not be accepted), so leaving it out changes nothing.
    fn is_read_only(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Read(_))
    }

    fn needs_observer(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Write(_) | RegisterOp::Cas(..))
    }

    fn observes(&self, op: &RegisterOp, state: &Scalar) -> bool {
        match op {
            RegisterOp::Read(Some(v)) | RegisterOp::Cas(v, _) => v == state,
            RegisterOp::Read(None) | RegisterOp::Write(_) => false,
        }
    }

    fn state_json(&self, state: &Scalar) -> Value {
        state.to_json()
    }

    fn state_heap_bytes(&self, state: &Scalar) -> usize {
        state.heap_bytes()
    }
}
