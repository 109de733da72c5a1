//! The systems faultline can test.

pub mod etcd;
