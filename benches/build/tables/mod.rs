//! One file a table of BENCHMARKS.md: each measures and pushes its section, goals and checks.

mod cache;
pub mod candle;
mod cold;
mod downstream;
mod gpu;
mod header_edit;
mod noop;
mod probe;
mod scale;
