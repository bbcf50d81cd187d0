//! Loadline: hear what a listener hears when headphones are driven by a particular output stage.
//!
//! `lib.rs` is glue only. The circuit engine lives in [`dsp`] (framework-free), the load and stage
//! library in [`library`].

pub mod bench;
pub mod dsp;
pub mod editor;
pub mod import;
pub mod library;
pub mod panel;
pub mod plugin;
pub mod processor;

nice_plug::nice_export_clap!(plugin::Loadline);
nice_plug::nice_export_vst3!(plugin::Loadline);
