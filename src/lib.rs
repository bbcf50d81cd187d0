//! Loadline: hear what a listener hears when headphones are driven by a particular output stage.
//!
//! `lib.rs` is glue only. The circuit engine lives in [`dsp`] (framework-free), the load and stage
//! library in [`library`].

pub mod dsp;
pub mod library;
