//! # arco-engine
//!
//! Turns "convert these sources into that store" into a plan of independent
//! tasks over output regions that fits a memory budget, runs it in parallel
//! (locally today; as array-job shards later), resumes after interruption, and
//! publishes the output only when every task has completed.
#![warn(missing_docs)]
