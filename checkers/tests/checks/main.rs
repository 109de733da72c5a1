//! One integration-test binary, a module per topic (as ripgrep does).

mod support;

mod anomalies;
mod brute_force;
mod fuzz;
mod porcupine_data;
mod properties;
