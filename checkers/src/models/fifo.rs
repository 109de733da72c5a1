//! A FIFO queue: `enqueue x`, and `dequeue`, which returns the oldest element, or nil when the
//! queue was empty.

use std::collections::VecDeque;

use serde_json::Value;

use crate::model::{result_value, Model, ModelError, Scalar};
use history::Op;

/// A queue, initially empty.
#[derive(Clone, Debug, Default)]
pub struct Fifo;

/// A queue op.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FifoOp {
    /// Add to the back.
    Enqueue(Scalar),
    /// Take from the front: `Some(Nil)` means it found the queue empty; `None` is unknown.
    Dequeue(Option<Scalar>),
}

impl Model for Fifo {
    type Op = FifoOp;
    type State = VecDeque<Scalar>;

    fn init(&self) -> VecDeque<Scalar> {
        VecDeque::new()
    }

    fn parse(&self, invoke: &Op, completion: Option<&Op>) -> Result<FifoOp, ModelError> {
        match invoke.f.as_str() {
            "enqueue" => Ok(FifoOp::Enqueue(Scalar::from_json(&invoke.value, "value", "an enqueued element")?)),
            "dequeue" => {
                Ok(FifoOp::Dequeue(result_value(completion).map(|v| Scalar::from_json(v, "value", "a dequeued element")).transpose()?))
            }
            f => Err(ModelError::unknown_f("fifo", f, &["enqueue", "dequeue"])),
        }
    }

    fn step(&self, queue: &VecDeque<Scalar>, op: &FifoOp) -> Option<VecDeque<Scalar>> {
        match op {
            FifoOp::Enqueue(x) => {
                let mut next = queue.clone();
                next.push_back(x.clone());
                Some(next)
            }
            FifoOp::Dequeue(None) => {
                let mut next = queue.clone();
                next.pop_front();
                Some(next)
            }
            FifoOp::Dequeue(Some(Scalar::Nil)) => queue.is_empty().then(VecDeque::new),
            FifoOp::Dequeue(Some(x)) => {
                if queue.front() != Some(x) {
                    return None;
                }
                let mut next = queue.clone();
                next.pop_front();
                Some(next)
            }
        }
    }

    fn state_json(&self, queue: &VecDeque<Scalar>) -> Value {
        Value::Array(queue.iter().map(Scalar::to_json).collect())
    }

    fn state_heap_bytes(&self, queue: &VecDeque<Scalar>) -> usize {
        queue.iter().map(|x| 32 + x.heap_bytes()).sum()
    }
}
