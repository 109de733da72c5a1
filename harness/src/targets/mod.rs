//! The systems faultline can test.

pub mod bundled;
pub mod etcd;
